/**
 * The audit trail: GET /v1/audit?scope=&since=&limit= (oldest first, entries with id > since;
 * `next` is the cursor for the following page, null on the last) and GET /v1/audit/verify
 * (recomputes the hash chain). A token sees the entries of the scopes it may access; entries
 * of no scope only with access to every scope.
 */
import type { FastifyInstance } from 'fastify';
import { canAccessAllScopes, canAccessScope } from '../../auth/permissions.ts';
import type { ApiDeps } from '../api-deps.ts';
import { assertScopeAccess, assertScopeName } from '../guard.ts';
import { auditView } from '../views.ts';

export const AUDIT_DEFAULT_LIMIT = 100;
export const AUDIT_MAX_LIMIT = 1000;

const auditQuery = {
  type: 'object',
  properties: {
    scope: { type: 'string' },
    since: { type: 'integer', minimum: 0 },
    limit: { type: 'integer', minimum: 1, maximum: AUDIT_MAX_LIMIT },
  },
  additionalProperties: false,
} as const;

export async function auditRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  app.get<{ Querystring: { scope?: string; since?: number; limit?: number } }>(
    '/v1/audit',
    { config: { permission: 'audit:read' }, schema: { querystring: auditQuery } },
    async (request) => {
      const principal = request.principal!;
      const scope = request.query.scope ?? null;
      if (scope !== null) {
        assertScopeName(scope);
        assertScopeAccess(principal, scope);
      }
      const limit = request.query.limit ?? AUDIT_DEFAULT_LIMIT;
      const rows = deps.audit.page(request.query.since ?? 0, scope, limit);
      const visible = rows.filter((r) => (r.scope === null ? canAccessAllScopes(principal) : canAccessScope(principal, r.scope)));
      const last = rows[rows.length - 1];
      return { items: visible.map(auditView), next: rows.length === limit && last ? last.id : null };
    },
  );

  app.get('/v1/audit/verify', { config: { permission: 'audit:read' } }, async () => deps.audit.check());
}
