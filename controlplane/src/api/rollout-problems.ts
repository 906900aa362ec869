/**
 * The problems of the staged-rollout surface (docs/rollout.md §6). The rollout service throws its
 * own typed errors (rollout-control.ts, rollout-ports.ts) and operator refusals come back as
 * values; this module is the one place that turns them into RFC 9457 bodies, so the codes stay
 * stable for scripts: 423 scope_frozen (frozenAt, reason), 409 rollout_in_progress (liveId),
 * 409 fleet_not_converged (lkgSeq, nodes), RolloutTargetInvalid's own status and code, 404
 * rollout_not_found, 409 rollout_<refusal>, 501 rollouts_unavailable (no rollout service wired).
 * The codes live here rather than in errors.ts because RolloutTargetInvalid carries codes the
 * service chooses.
 */
import { FleetNotConverged, RolloutTargetInvalid, ScopeFrozen } from '../rollout/rollout-control.ts';
import { LiveRolloutConflict, RolloutNotFound } from '../rollout/rollout-ports.ts';
import type { Refusal } from '../rollout/rollout-state.ts';

/** An RFC 9457 body (problem.ts's Problem without config issues; not imported, to keep the modules acyclic). */
export interface RolloutProblem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: string;
}

const TITLES: Readonly<Record<string, string>> = {
  scope_frozen: 'Scope is frozen after automatic rollbacks (unfreeze it first)',
  rollout_in_progress: 'A staged rollout of this scope is in progress',
  fleet_not_converged: 'The fleet does not serve the last known good generation',
  rollout_not_found: 'Rollout not found',
  rollout_finished: 'Rollout is finished',
  rollout_not_running: 'Rollout is not running',
  rollout_not_paused: 'Rollout is not paused',
  rollouts_unavailable: 'Staged rollouts are not available on this control plane',
};

/** A problem a route throws directly; the error mapper sends it as is. */
export class ProblemError extends Error {
  readonly problem: RolloutProblem;
  constructor(problem: RolloutProblem) {
    super(problem.detail);
    this.name = 'ProblemError';
    this.problem = problem;
  }
}

export function rolloutProblem(code: string, status: number, detail: string, extensions: Readonly<Record<string, unknown>> = {}): RolloutProblem {
  return { ...extensions, type: `urn:spooky:problem:${code}`, title: TITLES[code] ?? 'Rollout refused', status, detail, code };
}

export function rolloutsUnavailable(): ProblemError {
  return new ProblemError(rolloutProblem('rollouts_unavailable', 501, 'this control plane runs no rollout service; activate with strategy "immediate"'));
}

export function rolloutInProgress(scope: string, liveId: string | null): ProblemError {
  const detail = `scope ${scope} has a live rollout${liveId === null ? '' : ` (${liveId})`}; abort it first or send abort_live: true`;
  return new ProblemError(rolloutProblem('rollout_in_progress', 409, detail, { liveId }));
}

export function refusalProblem(id: string, refused: Refusal, status: string): ProblemError {
  return new ProblemError(rolloutProblem(`rollout_${refused}`, 409, `rollout ${id} is ${status}: ${refused.replace('_', ' ')}`, { rolloutStatus: status }));
}

/** The problem for an error of the rollout service, or null when `err` is none of them. */
export function problemOfRolloutError(err: unknown): RolloutProblem | null {
  if (err instanceof ProblemError) return err.problem;
  if (err instanceof ScopeFrozen) {
    return rolloutProblem('scope_frozen', 423, err.message, { frozenAt: err.frozen.frozenAt, reason: err.frozen.reason });
  }
  if (err instanceof LiveRolloutConflict) return rolloutInProgress(err.scope, err.liveId).problem;
  if (err instanceof FleetNotConverged) return rolloutProblem('fleet_not_converged', 409, err.message, { lkgSeq: err.lkgSeq, nodes: err.nodes });
  if (err instanceof RolloutTargetInvalid) return rolloutProblem(err.code, err.status, err.message);
  if (err instanceof RolloutNotFound) return rolloutProblem('rollout_not_found', 404, err.message);
  return null;
}
