/**
 * How `PUT /v1/scopes/{scope}/active` activates (docs/rollout.md §6). Without `strategy` the
 * scope's default applies (`deps.rollouts.defaultStrategy`, immediate without a rollout
 * service), except that a scope with no active generation yet activates immediately: the
 * first activation has no last known good to roll back to. An explicit `staged` always goes
 * to the rollout service, which then refuses what it cannot do (409 fleet_not_converged, …).
 * An immediate move in a scope whose default is staged needs `config:activate-immediate`;
 * a dry run moves nothing and needs no more than `config:activate`.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { hasPermission } from '../../auth/permissions.ts';
import { CpError } from '../../errors.ts';
import { parseRolloutPolicy, type RolloutPolicy } from '../../rollout/rollout-policy.ts';
import type { ApiDeps } from '../api-deps.ts';
import { actorOf } from '../guard.ts';
import { boundRollout } from '../response-bounds.ts';
import { rolloutInProgress, rolloutsUnavailable } from '../rollout-problems.ts';

export interface ActivateBody {
  readonly seq: number;
  readonly dryRun?: boolean;
  readonly force?: boolean;
  readonly strategy?: 'staged' | 'immediate';
  readonly policy?: unknown;
  readonly abort_live?: boolean;
}

export type Strategy = { readonly kind: 'immediate' } | { readonly kind: 'staged'; readonly policy: RolloutPolicy | undefined };

type ActivateRequest = FastifyRequest<{ Params: { scope: string }; Body: ActivateBody }>;

/** Which activation applies, with every refusal decided before anything moves. */
export function chooseStrategy(deps: ApiDeps, request: ActivateRequest, scope: string, expectedVersion: number): Strategy {
  const body = request.body;
  const policy = body.policy === undefined ? undefined : checkedPolicy(body.policy);
  const pointer = deps.active.getActive(scope);
  const scopeDefault = deps.rollouts?.defaultStrategy(scope) ?? 'immediate';
  const implicit = pointer === null ? 'immediate' : scopeDefault;
  const chosen = body.strategy ?? implicit;
  if (body.dryRun === true) return { kind: 'immediate' };
  if (chosen === 'immediate') {
    if (policy !== undefined) throw new CpError('invalid_request', 'policy applies to strategy "staged" only');
    if (pointer !== null && scopeDefault === 'staged' && !hasPermission(request.principal!, 'config:activate-immediate')) {
      throw new CpError('forbidden', `scope ${scope} rolls out staged by default: an immediate activation needs permission config:activate-immediate`);
    }
    return { kind: 'immediate' };
  }
  if (body.force === true) throw new CpError('invalid_request', 'force applies to strategy "immediate" only (a staged rollout refuses a failed generation)');
  if (!deps.rollouts) throw rolloutsUnavailable();
  const version = pointer?.version ?? 0;
  if (version !== expectedVersion) {
    throw new CpError('precondition_failed', `active pointer of ${scope} is at version ${version}, not ${expectedVersion}`);
  }
  return { kind: 'staged', policy };
}

/** Starts the staged rollout: 202, Location of the rollout, and the rollout as GET shows it. */
export function startStaged(
  deps: ApiDeps,
  request: ActivateRequest,
  reply: FastifyReply,
  scope: string,
  policy: RolloutPolicy | undefined,
): ReturnType<typeof boundRollout> {
  const { actor, reason } = actorOf(request);
  const rollouts = deps.rollouts;
  if (!rollouts) throw rolloutsUnavailable();
  const view = rollouts.start({
    scope,
    seq: request.body.seq,
    ...(policy === undefined ? {} : { policy }),
    ...(request.body.abort_live === true ? { abortLive: true } : {}),
    actor,
    reason,
  });
  reply.code(202).header('location', `/v1/rollouts/${encodeURIComponent(view.id)}`);
  return boundRollout(view);
}

/**
 * Before an immediate move: a live rollout of the scope refuses it (409 rollout_in_progress)
 * unless `abortLive`, which aborts the rollout (its cohort goes back to the LKG) first.
 * `precheck` runs before the abort, so a move that would be refused anyway aborts nothing.
 */
export function guardLiveRollout(deps: ApiDeps, request: FastifyRequest, scope: string, abortLive: boolean, precheck?: () => void): void {
  const live = deps.rollouts?.live(scope);
  if (!live || !deps.rollouts) return;
  if (!abortLive) throw rolloutInProgress(scope, live.id);
  precheck?.();
  const { actor, reason } = actorOf(request);
  deps.rollouts.operate(live.id, 'abort', actor, reason);
}

/** A policy for this rollout only: the strict validator's issues, each under `/policy`. */
function checkedPolicy(input: unknown): RolloutPolicy {
  const parsed = parseRolloutPolicy(input);
  if (parsed.ok) return parsed.policy;
  const issues = parsed.issues.map((i) => ({ ...i, pointer: `/policy${i.pointer}` }));
  throw new CpError('rollout_policy_invalid', `policy is invalid: ${issues.length} issue(s), first at ${issues[0]?.pointer ?? '/policy'}`, { issues });
}
