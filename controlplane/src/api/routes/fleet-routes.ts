/** Fleet views: GET /v1/scopes/:scope/status, GET /v1/nodes?scope=, GET /v1/nodes/:id. */
import type { FastifyInstance } from 'fastify';
import { canAccessScope } from '../../auth/permissions.ts';
import { CpError } from '../../errors.ts';
import { scopeStatus } from '../../generations/scope-status.ts';
import type { ApiDeps } from '../api-deps.ts';
import { assertScopeAccess, assertScopeName } from '../guard.ts';
import { nodeView } from '../views.ts';

export async function fleetRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  app.get<{ Params: { scope: string } }>(
    '/v1/scopes/:scope/status',
    { config: { permission: 'fleet:read' } },
    async (request) => {
      const { scope } = request.params;
      return scopeStatus(scope, deps.active.getActive(scope), deps.nodes.listNodes(scope));
    },
  );

  app.get<{ Querystring: { scope?: string } }>(
    '/v1/nodes',
    {
      config: { permission: 'fleet:read' },
      schema: { querystring: { type: 'object', properties: { scope: { type: 'string' } } } },
    },
    async (request) => {
      const principal = request.principal!;
      const scope = request.query.scope ?? null;
      if (scope !== null) {
        assertScopeName(scope);
        assertScopeAccess(principal, scope);
      }
      const items = deps.nodes.listNodes(scope).filter((n) => canAccessScope(principal, n.scope));
      return { items: items.map(nodeView) };
    },
  );

  app.get<{ Params: { id: string } }>('/v1/nodes/:id', { config: { permission: 'fleet:read' } }, async (request) => {
    const node = deps.nodes.getNode(request.params.id);
    // A node in a scope the token cannot see is reported as absent, not forbidden.
    if (!node || !canAccessScope(request.principal!, node.scope)) {
      throw new CpError('node_not_found', `no node ${request.params.id}`);
    }
    return nodeView(node);
  });
}
