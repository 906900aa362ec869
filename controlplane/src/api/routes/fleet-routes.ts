/**
 * Fleet views: GET /v1/scopes/:scope/status, GET /v1/nodes?scope=&limit=&after=, GET
 * /v1/nodes/:id (with the node's last events). Node state is connected | stale | disconnected,
 * derived at read time. The node list is paged by node id (`next` = the `after` of the
 * following page, null on the last), at most NODES_MAX_LIMIT per page.
 */
import type { FastifyInstance } from 'fastify';
import { canAccessScope } from '../../auth/permissions.ts';
import { CpError } from '../../errors.ts';
import type { ApiDeps } from '../api-deps.ts';
import { assertScopeAccess, assertScopeName } from '../guard.ts';
import { nodeDetailView, nodeView } from '../views.ts';

export const NODES_MAX_LIMIT = 1000;

const nodesQuery = {
  type: 'object',
  properties: {
    scope: { type: 'string' },
    limit: { type: 'integer', minimum: 1, maximum: NODES_MAX_LIMIT },
    after: { type: 'string', maxLength: 1024 },
  },
  additionalProperties: false,
} as const;

export async function fleetRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  app.get<{ Params: { scope: string } }>(
    '/v1/scopes/:scope/status',
    { config: { permission: 'fleet:read' } },
    async (request) => deps.fleet.status(request.params.scope),
  );

  app.get<{ Querystring: { scope?: string; limit?: number; after?: string } }>(
    '/v1/nodes',
    { config: { permission: 'fleet:read' }, schema: { querystring: nodesQuery } },
    async (request) => {
      const principal = request.principal!;
      const scope = request.query.scope ?? null;
      if (scope !== null) {
        assertScopeName(scope);
        assertScopeAccess(principal, scope);
      }
      const limit = request.query.limit ?? NODES_MAX_LIMIT;
      const after = request.query.after;
      // Ordered here with the same comparison as the cursor, so `after` never skips nor repeats.
      const visible = deps.fleet
        .listNodes(scope)
        .filter((n) => (after === undefined || n.nodeId > after) && canAccessScope(principal, n.scope))
        .sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
      const items = visible.slice(0, limit);
      const last = items[items.length - 1];
      return { items: items.map(nodeView), next: visible.length > limit && last ? last.nodeId : null };
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
