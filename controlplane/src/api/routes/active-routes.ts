/**
 * The active pointer: GET (ETag = version, plus lkgSeq), PUT (activate, If-Match required),
 * POST rollback (If-Match optional; to previous | lkg | seq). Both moves accept `force: true`
 * to activate a generation marked failed. Responses: {active, target, moved, changes} with the
 * new ETag; `changes` = the field-level diff from the previously active generation to the
 * target (what a dry run would change), [] when the target was active already; at most
 * MAX_RESPONSE_CHANGES of them, with `truncated` and `totalChanges`.
 *
 * Staged rollouts (docs/rollout.md §6): PUT takes `strategy` ("staged" → 202 + Location
 * /v1/rollouts/{id} + the rollout; "immediate" → the move above), `policy` (this rollout's
 * policy, staged only) and `abort_live`; activation-strategy.ts decides which applies and
 * what permission it needs. While a rollout of the scope is live, an immediate move (activate
 * or rollback) answers 409 rollout_in_progress unless `abort_live` aborts the rollout first.
 */
import type { FastifyInstance } from 'fastify';
import { ACTION_PERMISSIONS } from '../../auth/action-permissions.ts';
import { CpError } from '../../errors.ts';
import type { MoveResult } from '../../generations/active-service.ts';
import type { MoveKind } from '../../tracing/control-plane-tracing.ts';
import type { ApiDeps } from '../api-deps.ts';
import { actorOf } from '../guard.ts';
import { ifMatchVersion } from '../if-match.ts';
import { capChanges } from '../response-bounds.ts';
import { activeEtag, activeView } from '../views.ts';
import { type ActivateBody, chooseStrategy, guardLiveRollout, startStaged } from './activation-strategy.ts';

const activateBody = {
  type: 'object',
  properties: {
    seq: { type: 'integer', minimum: 1 },
    dryRun: { type: 'boolean' },
    force: { type: 'boolean' },
    strategy: { type: 'string', enum: ['staged', 'immediate'] },
    // Any JSON here; parseRolloutPolicy checks it (422 rollout_policy_invalid, pointers under /policy).
    policy: {},
    abort_live: { type: 'boolean' },
  },
  required: ['seq'],
  additionalProperties: false,
} as const;

const rollbackBody = {
  type: 'object',
  properties: {
    to: { anyOf: [{ type: 'string', enum: ['previous', 'lkg'] }, { type: 'integer', minimum: 1 }] },
    force: { type: 'boolean' },
    abort_live: { type: 'boolean' },
  },
  required: ['to'],
  additionalProperties: false,
} as const;

export async function activeRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const lkgSeq = (scope: string): number | null => deps.active.lkg(scope)?.seq ?? null;

  app.get<{ Params: { scope: string } }>(
    '/v1/scopes/:scope/active',
    { config: { permission: 'config:read' } },
    async (request, reply) => {
      const { scope } = request.params;
      const pointer = deps.active.getActive(scope);
      reply.header('etag', activeEtag(pointer));
      return activeView(pointer, lkgSeq(scope));
    },
  );

  app.put<{ Params: { scope: string }; Body: ActivateBody }>(
    '/v1/scopes/:scope/active',
    { config: { permission: ACTION_PERMISSIONS.activate, mutating: true }, schema: { body: activateBody } },
    async (request, reply) => {
      const expected = ifMatchVersion(request.headers['if-match']);
      if (expected === null) throw new CpError('precondition_required', 'send If-Match with the active ETag ("0" before the first activation)');
      const { scope } = request.params;
      const dryRun = request.body.dryRun === true;
      const force = request.body.force === true;
      const strategy = chooseStrategy(deps, request, scope, expected);
      if (strategy.kind === 'staged') return startStaged(deps, request, reply, scope, strategy.policy);
      if (!dryRun) {
        const who = actorOf(request);
        const precheck = () => void deps.active.activate(scope, request.body.seq, expected, who, { dryRun: true, force });
        guardLiveRollout(deps, request, scope, request.body.abort_live === true, precheck);
      }
      const result = dryRun
        ? deps.active.activate(scope, request.body.seq, expected, actorOf(request), { dryRun, force })
        : traced(deps, scope, 'activate', String(request.body.seq), actorOf(request).actor, () => deps.active.activate(scope, request.body.seq, expected, actorOf(request), { dryRun, force }));
      if (result.moved) deps.metrics.activeMoves.inc({ scope, kind: 'activate' });
      reply.header('etag', activeEtag(result.active));
      return moveBody(result, lkgSeq(scope), dryRun);
    },
  );

  app.post<{ Params: { scope: string }; Body: { to: 'previous' | 'lkg' | number; force?: boolean; abort_live?: boolean } }>(
    '/v1/scopes/:scope/rollback',
    { config: { permission: ACTION_PERMISSIONS.rollback, mutating: true }, schema: { body: rollbackBody } },
    async (request, reply) => {
      const { scope } = request.params;
      const force = request.body.force === true;
      const expected = ifMatchVersion(request.headers['if-match']);
      guardLiveRollout(deps, request, scope, request.body.abort_live === true);
      const result = traced(deps, scope, 'rollback', String(request.body.to), actorOf(request).actor, () => deps.active.rollback(scope, request.body.to, expected, actorOf(request), { force }));
      if (result.moved) deps.metrics.activeMoves.inc({ scope, kind: 'rollback' });
      reply.header('etag', activeEtag(result.active));
      return moveBody(result, lkgSeq(scope), false);
    },
  );
}

/**
 * Runs one move of the pointer inside an activation span when span export is on: the pushes
 * the move triggers (synchronously, from the active-changed listeners) are its children.
 */
function traced(deps: ApiDeps, scope: string, kind: MoveKind, target: string, actor: string, move: () => MoveResult): MoveResult {
  if (deps.tracing === undefined) return move();
  const span = deps.tracing.startActivation(scope, kind, target, actor);
  try {
    const result = move();
    span.moved(result.target.seq, result.target.digest, result.moved);
    return result;
  } catch (err) {
    span.failed(err instanceof CpError ? err.code : 'internal');
    throw err;
  }
}

function moveBody(result: MoveResult, lkgSeq: number | null, dryRun: boolean) {
  return {
    active: activeView(result.active, lkgSeq),
    target: result.target,
    moved: result.moved,
    ...capChanges(result.changes),
    ...(dryRun ? { dryRun: true } : {}),
  };
}
