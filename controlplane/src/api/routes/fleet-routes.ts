/**
 * Fleet views: GET /v1/scopes/:scope/status, GET /v1/nodes?scope=, GET /v1/nodes/:id (with
 * the node's last events). Node state is connected | stale | disconnected, derived at read time.
 */
import type { FastifyInstance } from 'fastify';
import { canAccessScope } from '../../auth/permissions.ts';
import { CpError } from '../../errors.ts';
import type { ApiDeps } from '../api-deps.ts';
import { assertScopeAccess, assertScopeName } from '../guard.ts';
import { nodeDetailView, nodeView } from '../views.ts';

export async function fleetRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  app.get<{ Params: { scope: string } }>(
    '/v1/scopes/:scope/status',
    { config: { permission: 'fleet:read' } },
    async (request) => deps.fleet.status(request.params.scope),
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
      const items = deps.fleet.listNodes(scope).filter((n) => canAccessScope(principal, n.scope));
      return { items: items.map(nodeView) };
    },
  );

  app.get<{ Params: { id: string } }>('/v1/nodes/:id', { config: { permission: 'fleet:read' } }, async (request) => {
    const found = deps.fleet.getNode(request.params.id);
    // A node in a scope the token cannot see is reported as absent, not forbidden.
    if (!found || !canAccessScope(request.principal!, found.node.scope)) {
      throw new CpError('node_not_found', `no node ${request.params.id}`);
    }
    return nodeDetailView(found.node, found.history);
  });
}
