/**
 * The vocabulary of the rollout state machine (docs/rollout.md, "State machine"): the persisted
 * state of one rollout, the events that move it and the effects it asks its shell to carry out.
 * Everything here is plain JSON so the shell can store the state as one row and the decision log
 * as appended rows.
 */
import type { FleetNode } from './cohort-selection.ts';
import type { GateNumbers, NodeFacts } from './gate-evaluation.ts';
import type { GateFailure } from './health-gate.ts';
import type { RolloutPolicy } from './rollout-policy.ts';

/** `running`/`paused` are live; the rest are final. */
export type RolloutStatus = 'running' | 'paused' | 'promoted' | 'rolled_back' | 'aborted';

/** The stage in progress; with the decision log this is what a restart resumes from. */
export interface StageState {
  readonly index: number;
  readonly startedAtMs: number;
  readonly ackDeadlineMs: number;
  /** Nodes this stage added to the cohort (the ACK quorum is over these). */
  readonly added: readonly string[];
  /** Nodes of the cohort that match this stage's labels (against `min_nodes`). */
  readonly selected: number;
  /** An operator promoted this stage: it skips its soak and health gate. */
  readonly promoted: boolean;
  /**
   * Set by a control-plane restart: now + resume_grace_ms. Until then a soak end is not failed
   * for missing data alone (gate-evaluation.ts `verdictNotBeforeMs`): the nodes could not report
   * while the control plane was down. Absent in states saved before any restart.
   */
  readonly verdictNotBeforeMs?: number;
}

export type DecisionKind =
  | 'started'
  | 'stage_started'
  | 'cohort_grown'
  | 'stage_passed'
  | 'gate_failed'
  | 'paused'
  | 'resumed'
  | 'promoted_by_operator'
  | 'aborted'
  | 'resumed_after_restart'
  | 'completed'
  | 'rolled_back'
  | 'frozen';

/** One line of the append-only decision log: what was decided, when, in which stage, and why. */
export interface Decision {
  readonly atMs: number;
  readonly stage: number;
  readonly kind: DecisionKind;
  readonly actor?: string;
  readonly reason?: string;
  readonly nodes?: readonly string[];
  readonly failures?: readonly GateFailure[];
  readonly numbers?: GateNumbers;
}

export interface RolloutState {
  readonly id: string;
  readonly scope: string;
  readonly targetSeq: number;
  /** The last known good generation the rollout started from: the baseline and the rollback target. */
  readonly lkgSeq: number;
  readonly policy: RolloutPolicy;
  readonly status: RolloutStatus;
  readonly stage: StageState;
  /** Every node admitted so far, in admission order; never shrinks. */
  readonly cohort: readonly string[];
  /** Automatic rollbacks in a row in this scope before this rollout started. */
  readonly streakBefore: number;
  readonly startedAtMs: number;
  readonly endedAtMs: number | null;
  /** Append-only. */
  readonly log: readonly Decision[];
  /** The latest gate evaluation (for GET /v1/rollouts/{id}); not needed to resume. */
  readonly lastEvaluation: { readonly atMs: number; readonly kind: string; readonly numbers: GateNumbers } | null;
}

export interface StartEvent {
  readonly type: 'start';
  readonly nowMs: number;
  readonly id: string;
  readonly scope: string;
  readonly targetSeq: number;
  readonly lkgSeq: number;
  readonly policy: RolloutPolicy;
  readonly fleet: readonly FleetNode[];
  readonly streakBefore: number;
  readonly actor: string;
}

/** Time passed (`tick`) or the distribution layer learnt something (`facts`): the same handling. */
export interface ObserveEvent {
  readonly type: 'tick' | 'facts';
  readonly nowMs: number;
  readonly fleet: readonly FleetNode[];
  readonly facts: readonly NodeFacts[];
}

export interface OperatorEvent {
  readonly type: 'pause' | 'resume' | 'promote' | 'abort';
  readonly nowMs: number;
  readonly actor: string;
  readonly reason?: string;
}

/** The control plane restarted and loaded this state from the store. */
export interface RestartEvent {
  readonly type: 'restart';
  readonly nowMs: number;
}

export type RolloutEvent = StartEvent | ObserveEvent | OperatorEvent | RestartEvent;

/**
 * What the shell must do. Node effects are desired state, not commands: carrying one out twice
 * (after a restart) changes nothing, because distribution pushes only what a node does not hold.
 */
export type RolloutEffect =
  /** The nodes hold `seq` as their candidate and send it `canaryPercent` of new requests (0: serve it fully). */
  | { readonly type: 'push-candidate'; readonly nodes: readonly string[]; readonly seq: number; readonly canaryPercent: number }
  /** The nodes serve `seq` fully (their stage passed); they drop the previous generation. */
  | { readonly type: 'promote-nodes'; readonly nodes: readonly string[]; readonly seq: number }
  /** The nodes serve the LKG again (the automatic or operator rollback). */
  | { readonly type: 'rollback-nodes'; readonly nodes: readonly string[]; readonly toSeq: number }
  /** Move the scope's active pointer to the target: the rollout reached the whole fleet. */
  | { readonly type: 'activate'; readonly seq: number }
  | { readonly type: 'mark-failed'; readonly seq: number; readonly rule: string }
  /** The scope's count of automatic rollbacks in a row is now `count` (0 after a promoted rollout). */
  | { readonly type: 'set-rollback-streak'; readonly scope: string; readonly count: number }
  /** Activations of the scope are refused (423) until an operator unfreezes it. */
  | { readonly type: 'freeze-scope'; readonly scope: string; readonly reason: string }
  /** Publish a decision (SSE) — one per line appended to the log. */
  | { readonly type: 'emit'; readonly rolloutId: string; readonly decision: Decision }
  /** Send the next `tick` no later than this. */
  | { readonly type: 'wake-at'; readonly atMs: number };

/** Why an operator event changed nothing; the API answers 409 with it. */
export type Refusal = 'finished' | 'not_running' | 'not_paused';

export interface Step {
  readonly state: RolloutState;
  readonly effects: readonly RolloutEffect[];
  readonly refused: Refusal | null;
}
