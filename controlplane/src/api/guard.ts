/**
 * Authentication and authorization, run onRequest (before the body is read) for every route
 * that declares `config.permission` (or `config.authenticated`: a valid token, no permission). Order: 401 no/invalid token (429 + Retry-After once the
 * caller's failures are throttled, see auth-throttle.ts) → 400 bad scope name → 403
 * permission or scope missing → 400 reason_required (mutating routes without
 * Spooky-Change-Reason). Sets request.principal and request.changeReason. A failure is
 * counted and logged with its reason, source address, the token's name when known and a
 * fingerprint of the token (never the token); a throttled period is logged once.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { canAccessScope, hasPermission, type Permission, type Principal } from '../auth/permissions.ts';
import type { AuthCheck } from '../auth/token-authenticator.ts';
import { CpError } from '../errors.ts';
import type { CpMetrics } from '../observability/metrics.ts';
import type { AuthThrottle } from './auth-throttle.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Required permission, or a list of which any one suffices; routes without one (health, metrics) are public. */
    permission?: Permission | readonly Permission[];
    /** Needs a valid token but no permission (GET /v1/whoami); ignored when `permission` is set. */
    authenticated?: boolean;
    /** Mutating routes require a Spooky-Change-Reason header. */
    mutating?: boolean;
  }
  interface FastifyRequest {
    principal: Principal | null;
    changeReason: string | null;
  }
}

export interface Authenticator {
  check(authorization: string | undefined): AuthCheck;
}

export interface GuardOptions {
  readonly throttle: AuthThrottle;
  readonly metrics: Pick<CpMetrics, 'authFailures' | 'authThrottled'>;
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

export function installGuard(app: FastifyInstance, auth: Authenticator, options: GuardOptions): void {
  app.decorateRequest('principal', null);
  app.decorateRequest('changeReason', null);
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const { permission, authenticated, mutating } = request.routeOptions.config;
    if (!permission && authenticated !== true) return;
    const result = auth.check(request.headers.authorization);
    if (!result.ok) throw failure(request, result, options);
    const principal = result.principal;
    const scope = (request.params as { scope?: string } | undefined)?.scope;
    if (scope !== undefined) assertScopeName(scope);
    const anyOf: readonly Permission[] = permission === undefined ? [] : typeof permission === 'string' ? [permission] : permission;
    if (permission !== undefined && !anyOf.some((p) => hasPermission(principal, p))) throw new CpError('forbidden', `token lacks permission ${anyOf.join(' or ')}`);
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

/** The error answering a failed authentication: 401, or 429 once throttled. */
function failure(request: FastifyRequest, result: Extract<AuthCheck, { ok: false }>, options: GuardOptions): CpError {
  options.metrics.authFailures.inc({ reason: result.reason });
  const who = {
    reason: result.reason,
    source: request.ip,
    ...(result.tokenName === undefined ? {} : { tokenName: result.tokenName }),
    ...(result.fingerprint === undefined ? {} : { fingerprint: result.fingerprint }),
  };
  const verdict = options.throttle.onFailure(request.ip, result.tokenName);
  if (verdict.throttled) {
    options.metrics.authThrottled.inc({ by: verdict.by });
    if (verdict.first) request.log.warn({ ...who, by: verdict.by, retryAfterSeconds: verdict.retryAfterSeconds }, 'authentication failures throttled');
    return new CpError('too_many_requests', `too many failed authentications; retry in ${verdict.retryAfterSeconds} s`, {
      retryAfterSeconds: verdict.retryAfterSeconds,
    });
  }
  request.log.warn(who, 'authentication failed');
  return new CpError('unauthorized', 'a valid Bearer token is required');
}

/** The actor and reason of a mutating request (after the guard ran). */
export function actorOf(request: FastifyRequest): { actor: string; reason: string } {
  return { actor: request.principal?.name ?? 'unknown', reason: request.changeReason ?? '' };
}
