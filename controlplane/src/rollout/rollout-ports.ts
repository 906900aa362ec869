/**
 * Ports of the staged-rollout shell (docs/rollout.md §4 "What is persisted"): the versioned
 * policy of each scope, the persisted rollouts with their append-only decision log, the outbox
 * of effects, and the per-scope freeze state. Implemented by store/ (SQLite). All methods are
 * synchronous; `transaction` runs `fn` as one immediate write transaction (so a use case can
 * add its audit entry to the same commit) and rolls back when `fn` throws.
 */
import type { RolloutPolicy } from './rollout-policy.ts';
import type { Decision, RolloutEffect, RolloutState, RolloutStatus } from './rollout-state.ts';

/** Who stored a policy version, why and when (ISO 8601, UTC). */
export interface PolicyMeta {
  readonly author: string;
  readonly reason: string;
  readonly at: string;
}

/** One stored version of a scope's policy; the newest version is the current one. */
export interface StoredPolicy {
  readonly scope: string;
  /** 1, 2, … per scope; 0 is never stored (it names "no policy stored, the default applies"). */
  readonly version: number;
  readonly policy: RolloutPolicy;
  readonly author: string;
  readonly reason: string;
  readonly createdAt: string;
}

/** A rollout as listed: the row without its state and log. Times are ISO 8601 (UTC). */
export interface RolloutSummary {
  readonly id: string;
  readonly scope: string;
  readonly targetSeq: number;
  readonly lkgSeq: number;
  /** The policy version the rollout runs under; 0 = the default policy (none was stored). */
  readonly policyVersion: number;
  readonly status: RolloutStatus;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface StoredRollout extends RolloutSummary {
  /** Exactly the state last saved, its `log` read back from the decision log. */
  readonly state: RolloutState;
}

/** A new rollout: the state `reduce(null, start)` returned (its log is all new) and that step's effects. */
export interface NewRollout {
  readonly state: RolloutState;
  readonly policyVersion: number;
  readonly effects: readonly RolloutEffect[];
}

/** One effect of the outbox, written with the state that produced it and not yet carried out. */
export interface PendingEffect {
  readonly rolloutId: string;
  /** Per rollout, 0, 1, … in the order the reducer returned them. */
  readonly n: number;
  readonly effect: RolloutEffect;
}

/** The freeze rule's state of one scope; a scope never touched is streak 0, not frozen. */
export interface FreezeState {
  readonly scope: string;
  /** Automatic rollbacks in a row (reset by a promoted rollout and by unfreeze). */
  readonly rollbackStreak: number;
  readonly frozen: boolean;
  readonly frozenAt: string | null;
  readonly reason: string | null;
}

export interface RolloutRepo {
  transaction<T>(fn: () => T): T;

  /**
   * Stores `policy` as the scope's next version and returns it. `expectedVersion` (when given)
   * must be the current version (0 while none is stored), else PolicyVersionConflict: the
   * compare-and-swap behind `If-Match`.
   */
  putPolicy(scope: string, policy: RolloutPolicy, meta: PolicyMeta, expectedVersion?: number): StoredPolicy;
  /** The newest stored version, or null (the default policy applies, version 0). */
  currentPolicy(scope: string): StoredPolicy | null;

  /**
   * Inserts the rollout, its whole log and its effects in one transaction. LiveRolloutConflict
   * when the rollout is live and the scope already has a live one (a partial unique index).
   */
  create(rollout: NewRollout): void;
  /**
   * Replaces the state and appends `newLines` and `effects`, in one transaction. `state.log`
   * must be the stored log followed by exactly `newLines` (else RolloutLogMismatch: a line
   * would be lost or written twice). RolloutNotFound for an unknown id; RolloutFinished when
   * the stored rollout is final (final states never change: skip the save when the reducer
   * returned the state unchanged).
   */
  save(id: string, state: RolloutState, newLines: readonly Decision[], effects: readonly RolloutEffect[]): void;
  get(id: string): StoredRollout | null;
  /** The scope's rollouts, newest first, at most `limit` (default 50). */
  list(scope: string, limit?: number): RolloutSummary[];
  /** The scope's running or paused rollout, or null; there is never more than one. */
  live(scope: string): StoredRollout | null;
  /** Every running or paused rollout of every scope, oldest first (the driver loads them at start). */
  allLive(): StoredRollout[];

  /** Every effect not yet marked done, oldest first (in the order they were written). */
  pendingEffects(): PendingEffect[];
  /** Marks one effect carried out; false when it was unknown or done already. */
  markDone(rolloutId: string, n: number): boolean;

  freezeState(scope: string): FreezeState;
  setRollbackStreak(scope: string, count: number): void;
  /** Freezes the scope (keeps the first freeze's time and reason when it is frozen already). */
  freeze(scope: string, reason: string, at: string): void;
  /** Lifts the freeze and resets the streak to 0. */
  unfreeze(scope: string): void;
}

/** The stored policy version is not the one the caller read (412 on the API). */
export class PolicyVersionConflict extends Error {
  readonly scope: string;
  readonly expected: number;
  readonly current: number;
  constructor(scope: string, expected: number, current: number) {
    super(`rollout policy of scope ${scope} is at version ${current}, not ${expected}`);
    this.name = 'PolicyVersionConflict';
    this.scope = scope;
    this.expected = expected;
    this.current = current;
  }
}

/** The scope already has a live rollout (409 rollout_in_progress on the API). */
export class LiveRolloutConflict extends Error {
  readonly scope: string;
  readonly liveId: string | null;
  constructor(scope: string, liveId: string | null) {
    super(`scope ${scope} already has a live rollout${liveId === null ? '' : ` (${liveId})`}`);
    this.name = 'LiveRolloutConflict';
    this.scope = scope;
    this.liveId = liveId;
  }
}

export class RolloutNotFound extends Error {
  readonly id: string;
  constructor(id: string) {
    super(`no rollout ${id}`);
    this.name = 'RolloutNotFound';
    this.id = id;
  }
}

/** A save of a promoted, rolled back or aborted rollout: a shell bug. */
export class RolloutFinished extends Error {
  readonly id: string;
  constructor(id: string) {
    super(`rollout ${id} is finished; its state no longer changes`);
    this.name = 'RolloutFinished';
    this.id = id;
  }
}

/** The state's log is not the stored log plus the new lines: a shell bug, nothing was written. */
export class RolloutLogMismatch extends Error {
  constructor(id: string, detail: string) {
    super(`rollout ${id}: ${detail}`);
    this.name = 'RolloutLogMismatch';
  }
}
