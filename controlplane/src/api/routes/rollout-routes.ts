/**
 * Staged rollouts (docs/rollout.md §6), over the RolloutControl port:
 *   GET  /v1/rollouts?scope=&limit=          newest first (limit 1–100, default 50) — config:read
 *   GET  /v1/rollouts/{id}                   stages, node counts, gate numbers, decisions — config:read
 *   GET  /v1/rollouts/{id}/wait?timeout=30s  long-poll: answers 200 with the rollout once it is final
 *                                            or at the timeout (`final` tells; at most 300 s); a client
 *                                            that goes away ends the wait — config:read
 *   POST /v1/rollouts/{id}/{pause|resume|abort}  config:activate (abort also config:rollback)
 *   POST /v1/rollouts/{id}/promote           skip the current stage's soak — config:activate-immediate
 *   GET  /v1/scopes/{scope}/freeze           the freeze state — config:read
 *   POST /v1/scopes/{scope}/unfreeze {reason?}  lift the freeze, reset the streak — rollout:policy
 * Rollout answers are bounded (response-bounds.ts boundRollout: node lists ≤ 1000 with their
 * counts, the newest 500 decisions). Operator bodies are `{reason?}` (the Spooky-Change-Reason header is the default); a refusal of
 * the state machine answers 409 rollout_<refusal> (`finished`, `not_running`, `not_paused`). A
 * rollout of a scope the token may not access answers 403. Without a rollout service every route
 * answers 501 rollouts_unavailable.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ACTION_PERMISSIONS } from '../../auth/action-permissions.ts';
import type { Permission } from '../../auth/permissions.ts';
import { CpError } from '../../errors.ts';
import type { OperatorAction, RolloutControl, RolloutView } from '../../rollout/rollout-control.ts';
import { RolloutNotFound } from '../../rollout/rollout-ports.ts';
import type { ApiDeps } from '../api-deps.ts';
import { actorOf, assertScopeAccess, assertScopeName } from '../guard.ts';
import { boundRollout } from '../response-bounds.ts';
import { refusalProblem, rolloutsUnavailable } from '../rollout-problems.ts';

/** Longest long-poll a caller may ask for; the default is 30 s. */
export const MAX_WAIT_MS = 300_000;
export const DEFAULT_WAIT_MS = 30_000;
const MAX_LIST = 100;

const listQuery = {
  type: 'object',
  properties: { scope: { type: 'string' }, limit: { type: 'integer', minimum: 1, maximum: MAX_LIST } },
  required: ['scope'],
  additionalProperties: false,
} as const;

const waitQuery = {
  type: 'object',
  properties: { timeout: { type: 'string', maxLength: 16 } },
  additionalProperties: false,
} as const;

const MAX_REASON = 1024;

/** The permissions come from the one action table (GET /v1/whoami answers from it too). */
const ACTIONS: readonly { readonly action: OperatorAction; readonly permission: readonly Permission[] }[] = [
  { action: 'pause', permission: ACTION_PERMISSIONS['rollout.pause'] },
  { action: 'resume', permission: ACTION_PERMISSIONS['rollout.resume'] },
  { action: 'abort', permission: ACTION_PERMISSIONS['rollout.abort'] },
  { action: 'promote', permission: ACTION_PERMISSIONS['rollout.promote'] },
];

export async function rolloutRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const control = (): RolloutControl => {
    if (!deps.rollouts) throw rolloutsUnavailable();
    return deps.rollouts;
  };
  /** The rollout, once the caller may see its scope. */
  const visible = (request: FastifyRequest, id: string): RolloutView => {
    const view = control().get(id);
    if (view === null) throw new RolloutNotFound(id);
    assertScopeAccess(request.principal!, view.scope);
    return view;
  };

  app.get<{ Querystring: { scope: string; limit?: number } }>(
    '/v1/rollouts',
    { config: { permission: 'config:read' }, schema: { querystring: listQuery } },
    async (request) => {
      const { scope, limit } = request.query;
      assertScopeName(scope);
      assertScopeAccess(request.principal!, scope);
      return { items: control().list(scope, limit ?? 50) };
    },
  );

  app.get<{ Params: { id: string } }>('/v1/rollouts/:id', { config: { permission: 'config:read' } }, async (request) =>
    boundRollout(visible(request, request.params.id)),
  );

  app.get<{ Params: { id: string }; Querystring: { timeout?: string } }>(
    '/v1/rollouts/:id/wait',
    { config: { permission: 'config:read' }, schema: { querystring: waitQuery } },
    async (request, reply) => {
      const timeoutMs = waitTimeout(request.query.timeout);
      const view = visible(request, request.params.id);
      if (view.final) return boundRollout(view);
      const gone = new AbortController();
      const onClose = (): void => {
        if (!reply.raw.writableFinished) gone.abort();
      };
      reply.raw.once('close', onClose);
      try {
        return boundRollout(await control().waitFinished(view.id, timeoutMs, gone.signal));
      } finally {
        reply.raw.off('close', onClose);
      }
    },
  );

  for (const { action, permission } of ACTIONS) {
    app.post<{ Params: { id: string }; Body: unknown }>(
      `/v1/rollouts/:id/${action}`,
      { config: { permission, mutating: true } },
      async (request) => {
        const bodyReason = optionalReason(request.body);
        const view = visible(request, request.params.id);
        const { actor, reason } = actorOf(request);
        const result = control().operate(view.id, action, actor, bodyReason ?? reason);
        if (result.refused !== null) throw refusalProblem(view.id, result.refused, result.rollout.status);
        return boundRollout(result.rollout);
      },
    );
  }

  app.get<{ Params: { scope: string } }>('/v1/scopes/:scope/freeze', { config: { permission: 'config:read' } }, async (request) =>
    control().freezeState(request.params.scope),
  );

  app.post<{ Params: { scope: string }; Body: unknown }>(
    '/v1/scopes/:scope/unfreeze',
    { config: { permission: ACTION_PERMISSIONS['scope.unfreeze'], mutating: true } },
    async (request) => {
      const bodyReason = optionalReason(request.body);
      const { actor, reason } = actorOf(request);
      return control().unfreeze(request.params.scope, actor, bodyReason ?? reason);
    },
  );
}

/**
 * The optional `{reason?}` body of the operator routes, as strict as a schema (unknown keys and
 * wrong types are 400 naming the field) but absent allowed: `curl -X POST …/pause` has no body.
 */
export function optionalReason(body: unknown): string | undefined {
  const refuse = (pointer: string, code: string, message: string): CpError =>
    new CpError('invalid_request', `request body is invalid at ${pointer === '' ? '/' : pointer}: ${message}`, { issues: [{ pointer, code, message }] });
  if (body === undefined) return undefined;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw refuse('', 'request.type', 'must be an object {reason?}');
  for (const key of Object.keys(body)) {
    if (key !== 'reason') throw refuse(`/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`, 'request.additionalProperties', 'unknown key');
  }
  const reason = (body as { reason?: unknown }).reason;
  if (reason === undefined) return undefined;
  if (typeof reason !== 'string' || reason.trim() === '' || reason.length > MAX_REASON) {
    throw refuse('/reason', 'request.type', `must be a non-empty string of at most ${MAX_REASON} characters`);
  }
  return reason;
}

/** `?timeout=` as a duration (`500ms`, `30s`, `2m`; a bare number is seconds), capped at MAX_WAIT_MS. */
export function waitTimeout(text: string | undefined): number {
  if (text === undefined) return DEFAULT_WAIT_MS;
  const match = /^(\d{1,9})(ms|s|m)?$/.exec(text.trim());
  if (!match?.[1]) throw new CpError('invalid_request', 'timeout must be a duration such as 500ms, 30s or 2m');
  const ms = Number(match[1]) * (match[2] === 'ms' ? 1 : match[2] === 'm' ? 60_000 : 1000);
  return Math.min(ms, MAX_WAIT_MS);
}
