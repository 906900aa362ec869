/**
 * Authentication and authorization, run onRequest (before the body is read) for every route
 * that declares `config.permission`. Order: 401 no/invalid token → 400 bad scope name →
 * 403 permission or scope missing → 400 reason_required (mutating routes without
 * Spooky-Change-Reason). Sets request.principal and request.changeReason.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { canAccessScope, hasPermission, type Permission, type Principal } from '../auth/permissions.ts';
import { CpError } from '../errors.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Required permission; routes without one (health, metrics) are public. */
    permission?: Permission;
    /** Mutating routes require a Spooky-Change-Reason header. */
    mutating?: boolean;
  }
  interface FastifyRequest {
    principal: Principal | null;
    changeReason: string | null;
  }
}

export interface Authenticator {
  authenticate(authorization: string | undefined): Principal | null;
}

export const SCOPE_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const REASON_HEADER = 'spooky-change-reason';
const MAX_REASON_LENGTH = 1024;

export function assertScopeName(scope: string): void {
  if (!SCOPE_PATTERN.test(scope)) {
    throw new CpError('invalid_scope', 'scope must match [a-z0-9][a-z0-9-]{0,62}');
  }
}

/** Throws forbidden unless the principal may act on `scope`. */
export function assertScopeAccess(principal: Principal, scope: string): void {
  if (!canAccessScope(principal, scope)) throw new CpError('forbidden', `token may not access scope ${scope}`);
}

export function installGuard(app: FastifyInstance, auth: Authenticator): void {
  app.decorateRequest('principal', null);
  app.decorateRequest('changeReason', null);
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const { permission, mutating } = request.routeOptions.config;
    if (!permission) return;
    const principal = auth.authenticate(request.headers.authorization);
    if (!principal) throw new CpError('unauthorized', 'a valid Bearer token is required');
    const scope = (request.params as { scope?: string } | undefined)?.scope;
    if (scope !== undefined) assertScopeName(scope);
    if (!hasPermission(principal, permission)) throw new CpError('forbidden', `token lacks permission ${permission}`);
    if (scope !== undefined) assertScopeAccess(principal, scope);
    request.principal = principal;
    if (mutating) {
      const raw = request.headers[REASON_HEADER];
      const reason = (Array.isArray(raw) ? raw[0] : raw)?.trim() ?? '';
      if (reason === '') throw new CpError('reason_required', 'mutating calls need a Spooky-Change-Reason header');
      if (reason.length > MAX_REASON_LENGTH) {
        throw new CpError('invalid_request', `Spooky-Change-Reason is longer than ${MAX_REASON_LENGTH} characters`);
      }
      request.changeReason = reason;
    }
  });
}

/** The actor and reason of a mutating request (after the guard ran). */
export function actorOf(request: FastifyRequest): { actor: string; reason: string } {
  return { actor: request.principal?.name ?? 'unknown', reason: request.changeReason ?? '' };
}
