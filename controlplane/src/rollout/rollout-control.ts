/**
 * The staged-rollout use cases as the REST API and the CLI see them (docs/rollout.md §6).
 * Implemented by the rollout service (rollout-service.ts, which runs the driver); api/ depends
 * on this port only. Every method is synchronous except `waitFinished`. Errors are the typed
 * classes below (and RolloutNotFound / LiveRolloutConflict from rollout-ports.ts); api/ maps
 * them to problems.
 */
import type { RolloutPolicy } from './rollout-policy.ts';
import type { FreezeState, RolloutSummary } from './rollout-ports.ts';
import type { Decision, Refusal, RolloutStatus } from './rollout-state.ts';

export type OperatorAction = 'pause' | 'resume' | 'promote' | 'abort';

export interface StartRolloutRequest {
  readonly scope: string;
  /** The generation to roll out (the target). */
  readonly seq: number;
  /** Overrides the scope's stored policy for this rollout only (already validated). */
  readonly policy?: RolloutPolicy;
  /** A live rollout of the scope is aborted first instead of answering LiveRolloutConflict. */
  readonly abortLive?: boolean;
  readonly actor: string;
  readonly reason?: string;
}

/** One stage as GET /v1/rollouts/{id} shows it. */
export interface StageView {
  readonly index: number;
  readonly name: string;
  readonly state: 'done' | 'current' | 'pending';
  /** Nodes this stage added (stage_started + cohort_grown lines of the log). */
  readonly nodes: readonly string[];
  readonly soakMs: number;
  readonly startedAt: string | null;
}

/** A decision line with its time as ISO 8601 (UTC) next to `atMs`. */
export interface DecisionView extends Decision {
  readonly at: string;
}

export interface RolloutView {
  readonly id: string;
  readonly scope: string;
  readonly targetSeq: number;
  readonly lkgSeq: number;
  readonly policyVersion: number;
  readonly status: RolloutStatus;
  readonly final: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly endedAt: string | null;
  /** Index of the current stage (of the last one reached when final). */
  readonly currentStage: number;
  readonly stages: readonly StageView[];
  /** Every node admitted so far. */
  readonly cohort: readonly string[];
  readonly lastEvaluation: { readonly at: string; readonly kind: string; readonly numbers: unknown } | null;
  readonly decisions: readonly DecisionView[];
  readonly policy: RolloutPolicy;
}

export interface OperateResult {
  readonly rollout: RolloutView;
  /** Why nothing changed (API 409 `rollout_<refusal>`), or null when the action was taken. */
  readonly refused: Refusal | null;
}

export interface RolloutControl {
  /**
   * Starts a staged rollout of `seq`. Throws ScopeFrozen (423), LiveRolloutConflict (409
   * rollout_in_progress, unless abortLive), FleetNotConverged (409), RolloutTargetInvalid (404/409:
   * unknown, already active, failed, …) — checked in that order, nothing written on a refusal.
   */
  start(req: StartRolloutRequest): RolloutView;
  get(id: string): RolloutView | null;
  /** Newest first, at most `limit`. */
  list(scope: string, limit?: number): readonly RolloutSummary[];
  live(scope: string): RolloutView | null;
  /** RolloutNotFound for an unknown id. */
  operate(id: string, action: OperatorAction, actor: string, reason?: string): OperateResult;
  /**
   * What `PUT …/active` without `strategy` does in `scope`: `staged` once the scope has a stored
   * rollout policy whose `default_strategy` is staged (the normalised default of a stored
   * policy), `immediate` for a scope with none (today's behaviour, so existing pipelines and
   * single-node setups keep working; storing a policy is what makes a scope a production scope).
   */
  defaultStrategy(scope: string): 'staged' | 'immediate';
  freezeState(scope: string): FreezeState;
  /** Lifts the scope's freeze and resets its rollback streak (audited). */
  unfreeze(scope: string, actor: string, reason: string): FreezeState;
  /**
   * Resolves with the rollout once it is final, or with its current view after `timeoutMs`
   * (or when `signal` aborts). RolloutNotFound for an unknown id.
   */
  waitFinished(id: string, timeoutMs: number, signal?: AbortSignal): Promise<RolloutView>;
  /** Every decision appended to any rollout's log, after its transaction committed (SSE `rollout.<kind>`). */
  onDecision(listener: (rollout: { readonly id: string; readonly scope: string }, decision: DecisionView) => void): () => void;
}

/** The scope is frozen after automatic rollbacks in a row (423 scope_frozen). */
export class ScopeFrozen extends Error {
  readonly scope: string;
  readonly frozen: FreezeState;
  constructor(frozen: FreezeState) {
    super(`scope ${frozen.scope} is frozen: ${frozen.reason ?? 'automatic rollbacks in a row'}; unfreeze it first`);
    this.name = 'ScopeFrozen';
    this.scope = frozen.scope;
    this.frozen = frozen;
  }
}

/** The fleet does not serve the scope's LKG (409 fleet_not_converged): rolling back must have a place to go. */
export class FleetNotConverged extends Error {
  readonly scope: string;
  readonly lkgSeq: number | null;
  /** Connected nodes not serving the LKG. */
  readonly nodes: readonly string[];
  constructor(scope: string, lkgSeq: number | null, nodes: readonly string[], detail: string) {
    super(detail);
    this.name = 'FleetNotConverged';
    this.scope = scope;
    this.lkgSeq = lkgSeq;
    this.nodes = nodes;
  }
}

/** The target cannot be rolled out: `code` is the API's problem code, `status` its HTTP status. */
export class RolloutTargetInvalid extends Error {
  readonly code: string;
  readonly status: 404 | 409 | 422;
  constructor(code: string, status: 404 | 409 | 422, message: string) {
    super(message);
    this.name = 'RolloutTargetInvalid';
    this.code = code;
    this.status = status;
  }
}
