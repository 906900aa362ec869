/**
 * GET /v1/whoami?scope= — what the presented token is and may do, so a client (the operator
 * console) offers only the actions the token can take and says why the others are not
 * offered. Any valid token may ask (no permission needed; 401 without one). The answer names
 * the token (its name, the actor recorded for what it does), its permissions and scope
 * patterns as granted, its expiry, and per action (auth/action-permissions.ts) a verdict
 * `{allowed, needs, reason}`, in `scope` when given (400 for a malformed scope name; a scope
 * the token may not access is not an error: every action is then not allowed, with that
 * reason). Never the token itself nor its hash. Advice only: every route still checks.
 */
import type { FastifyInstance } from 'fastify';
import { actionVerdicts } from '../../auth/action-permissions.ts';
import { canAccessScope } from '../../auth/permissions.ts';
import { assertScopeName } from '../guard.ts';

const whoamiQuery = {
  type: 'object',
  properties: { scope: { type: 'string', maxLength: 63 } },
  additionalProperties: false,
} as const;

export async function whoamiRoutes(app: FastifyInstance): Promise<void> {
  app.get<{ Querystring: { scope?: string } }>(
    '/v1/whoami',
    { config: { authenticated: true }, schema: { querystring: whoamiQuery } },
    async (request) => {
      const principal = request.principal!;
      const scope = request.query.scope ?? null;
      if (scope !== null) assertScopeName(scope);
      return {
        name: principal.name,
        permissions: [...principal.permissions].sort(),
        scopes: [...principal.scopes].sort(),
        expiresAt: principal.expiresAt ?? null,
        scope,
        scopeAccess: scope === null ? null : canAccessScope(principal, scope),
        actions: actionVerdicts(principal, scope),
      };
    },
  );
}
