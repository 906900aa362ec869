/**
 * The shell around the pure rollout reducer (rollout-machine.ts) for the live rollouts of every
 * scope (docs/rollout.md §4). Synchronous like the store: every step runs to completion.
 *
 * One step: `reduce(state, event)` → when the state changed, `repo.save(id, state, newLines,
 * effects)` in ONE transaction → the in-memory state → the outbox is carried out
 * (`pendingEffects()` → execute → `markDone`). An observation that only refreshed the latest
 * gate evaluation (no new log line, no effect but `wake-at`) is kept in memory and not written:
 * it changes nothing a restart needs, and a fleet reporting every few seconds would otherwise
 * write a row per fact.
 *
 * Events: `tick` from ONE one-shot timer at the earliest `wake-at` of the live rollouts, at most
 * `maxSleepMs` away while any rollout is live (a safety tick); `facts` when the distribution layer
 * learnt something about a node of a scope with a live rollout, coalesced to at most one per
 * `factsCoalesceMs` per scope; operator events from the service.
 *
 * Node assignments are derived from the state (node-assignment.ts); the node effects of the
 * outbox only tell the sessions of those nodes to re-decide. A promoted rollout stays in memory
 * until its `activate` effect moved the active pointer, so its nodes are told `serve(target)`
 * until the pointer says the same (never a flap back to the LKG in between).
 *
 * Nothing thrown by a timer escapes: it is logged and counted (`errors`); an effect that failed
 * stays in the outbox and is retried by the next drain (at most `maxSleepMs` later).
 */
import { EventEmitter } from 'node:events';
import type { NodeAssignment, NodeAssignments } from '../distribution/ports.ts';
import type { Clock } from '../generations/ports.ts';
import { nodeAssignment } from './node-assignment.ts';
import type { RolloutFactsSource } from './rollout-facts.ts';
import { isFinished, reduce } from './rollout-machine.ts';
import type { RolloutRepo } from './rollout-ports.ts';
import type { Decision, OperatorEvent, RolloutEffect, RolloutState, Step } from './rollout-state.ts';

/** The moves outside the rollout store (implemented over ActiveService / the lifecycle repo in compose.ts). */
export interface RolloutActions {
  /** Moves the scope's active pointer to `seq`, audited as `actor`; already active: nothing. */
  activate(scope: string, seq: number, actor: string, reason: string): void;
  /** Marks the generation `failed` (audited, event) unless it is already. */
  markFailed(scope: string, seq: number, actor: string, reason: string): void;
}

/** setTimeout as a port (tests pass a manual one); the returned function cancels. */
export interface Scheduler {
  set(fn: () => void, delayMs: number): () => void;
}

export interface DriverLogger {
  error(obj: object, msg: string): void;
}

export interface RolloutDriverDeps {
  readonly repo: RolloutRepo;
  readonly facts: RolloutFactsSource;
  readonly actions: RolloutActions;
  readonly clock: Clock;
  readonly scheduler?: Scheduler;
  readonly logger?: DriverLogger;
  readonly factsCoalesceMs?: number;
  readonly maxSleepMs?: number;
}

export const realScheduler: Scheduler = {
  set(fn, delayMs) {
    const t = setTimeout(fn, Math.max(0, delayMs));
    t.unref();
    return () => clearTimeout(t);
  },
};

type DecisionListener = (rollout: { readonly id: string; readonly scope: string }, decision: Decision) => void;

export class RolloutDriver implements NodeAssignments {
  readonly #d: RolloutDriverDeps;
  readonly #scheduler: Scheduler;
  readonly #coalesceMs: number;
  readonly #maxSleepMs: number;
  /** Live rollouts (and promoted ones until their activation), by id. */
  readonly #states = new Map<string, RolloutState>();
  readonly #byScope = new Map<string, string>();
  readonly #wakeAt = new Map<string, number>();
  readonly #events = new EventEmitter();
  readonly #factsTimers = new Map<string, () => void>();
  readonly #lastFacts = new Map<string, number>();
  #cancelTick: (() => void) | null = null;
  #tickAt = Number.POSITIVE_INFINITY;
  #draining = false;
  #drainAgain = false;
  #stopped = false;
  #errors = 0;

  constructor(deps: RolloutDriverDeps) {
    this.#d = deps;
    this.#scheduler = deps.scheduler ?? realScheduler;
    this.#coalesceMs = deps.factsCoalesceMs ?? 200;
    this.#maxSleepMs = deps.maxSleepMs ?? 5_000;
    this.#events.setMaxListeners(0);
  }

  /** Errors caught in timers and effects since construction. */
  get errors(): number {
    return this.#errors;
  }

  /**
   * At control-plane start: every live rollout gets `restart` (saved with its effects), then the
   * whole outbox is carried out — effects a crash left pending included (desired state: idempotent).
   */
  start(): void {
    for (const stored of this.#d.repo.allLive()) {
      this.#remember(stored.state);
      this.#guard('restart', () => this.#apply(stored.state, reduce(stored.state, { type: 'restart', nowMs: this.#nowMs() })));
    }
    this.drain();
    this.#schedule();
  }

  /** Stops every timer; later facts and ticks do nothing. */
  stop(): void {
    this.#stopped = true;
    this.#cancelTick?.();
    this.#cancelTick = null;
    for (const cancel of this.#factsTimers.values()) cancel();
    this.#factsTimers.clear();
  }

  /** A rollout the service just created (state and effects are stored): remember it, carry out its effects. */
  adopt(state: RolloutState): void {
    this.#remember(state);
    this.drain();
    this.#schedule();
  }

  /** The live (or promoted, not yet activated) state of `id`, from memory. */
  state(id: string): RolloutState | null {
    return this.#states.get(id) ?? null;
  }

  /**
   * Applies an operator event to a live rollout; null when `id` is not live (the caller reads
   * the store). `inTransaction` (e.g. the audit entry) runs in the save's transaction, only when
   * the event was taken.
   */
  operate(id: string, event: OperatorEvent, inTransaction?: () => void): Step | null {
    const state = this.#states.get(id);
    if (!state || isFinished(state)) return null;
    const step = reduce(state, event);
    this.#apply(state, step, step.refused === null ? inTransaction : undefined);
    return step;
  }

  /** `tick` or `facts` for one rollout now; returns the step (null when it is not live). */
  observe(id: string, type: 'tick' | 'facts' = 'tick'): Step | null {
    const state = this.#states.get(id);
    if (!state || isFinished(state)) return null;
    const fleet = this.#d.facts.fleet(state.scope);
    const facts = this.#d.facts.facts(state, fleet);
    const step = reduce(state, { type, nowMs: this.#nowMs(), fleet, facts });
    this.#apply(state, step);
    return step;
  }

  /** Something about a node of `scope` changed: one `facts` observation within `factsCoalesceMs`. */
  factsChanged(scope: string): void {
    if (this.#stopped || this.#factsTimers.has(scope)) return;
    const id = this.#byScope.get(scope);
    if (id === undefined) return;
    const last = this.#lastFacts.get(scope) ?? Number.NEGATIVE_INFINITY;
    const delay = Math.max(0, last + this.#coalesceMs - this.#nowMs());
    const cancel = this.#scheduler.set(() => {
      this.#factsTimers.delete(scope);
      this.#lastFacts.set(scope, this.#nowMs());
      const live = this.#byScope.get(scope);
      if (live !== undefined) this.#guard('facts', () => this.observe(live, 'facts'));
    }, delay);
    this.#factsTimers.set(scope, cancel);
  }

  assignment(scope: string, nodeId: string): NodeAssignment | null {
    const id = this.#byScope.get(scope);
    const state = id === undefined ? undefined : this.#states.get(id);
    return state ? nodeAssignment(state, nodeId) : null;
  }

  onAssignmentsChanged(listener: (scope: string, nodes: readonly string[]) => void): () => void {
    return this.#on('assignments', listener);
  }

  /** Every decision line, after the transaction that appended it committed. */
  onDecision(listener: DecisionListener): () => void {
    return this.#on('decision', listener);
  }

  /** A rollout became final (after the commit). */
  onFinished(listener: (id: string) => void): () => void {
    return this.#on('finished', listener);
  }

  /** Carries out the outbox, oldest first; an effect that throws stays pending (and holds back its rollout's later ones). */
  drain(): void {
    if (this.#draining) {
      this.#drainAgain = true;
      return;
    }
    this.#draining = true;
    try {
      do {
        this.#drainAgain = false;
        const blocked = new Set<string>();
        for (const p of this.#d.repo.pendingEffects()) {
          if (blocked.has(p.rolloutId)) continue;
          try {
            this.#execute(p.rolloutId, p.effect);
            this.#d.repo.markDone(p.rolloutId, p.n);
          } catch (err) {
            blocked.add(p.rolloutId);
            this.#fail(`effect ${p.effect.type} of rollout ${p.rolloutId}`, err);
          }
        }
      } while (this.#drainAgain);
    } finally {
      this.#draining = false;
    }
  }

  #apply(prev: RolloutState, step: Step, inTransaction?: () => void): void {
    const next = step.state;
    if (next === prev) return;
    const newLines = next.log.slice(prev.log.length);
    if (newLines.length === 0 && step.effects.every((e) => e.type === 'wake-at') && sameCore(prev, next)) {
      this.#states.set(next.id, next);
      for (const e of step.effects) if (e.type === 'wake-at') this.#wake(next.id, e.atMs);
      this.#schedule();
      return;
    }
    this.#d.repo.transaction(() => {
      this.#d.repo.save(next.id, next, newLines, step.effects);
      inTransaction?.();
    });
    this.#remember(next);
    this.drain();
    // After the outbox: a waiter for a promoted rollout sees the active pointer moved.
    if (isFinished(next)) this.#events.emit('finished', next.id);
    this.#schedule();
  }

  #execute(rolloutId: string, effect: RolloutEffect): void {
    const state = this.#states.get(rolloutId) ?? this.#d.repo.get(rolloutId)?.state ?? null;
    const scope = state?.scope;
    const actor = `rollout:${rolloutId}`;
    switch (effect.type) {
      case 'push-candidate':
      case 'promote-nodes':
      case 'rollback-nodes':
        if (scope !== undefined) this.#events.emit('assignments', scope, effect.nodes);
        return;
      case 'activate':
        if (scope === undefined) return;
        this.#d.actions.activate(scope, effect.seq, actor, `rollout ${rolloutId} promoted through every stage`);
        if (state && isFinished(state)) this.#forget(state);
        if (state) this.#events.emit('assignments', scope, state.cohort);
        return;
      case 'mark-failed':
        if (scope === undefined) return;
        this.#d.actions.markFailed(scope, effect.seq, actor, `rollout ${rolloutId}: gate ${effect.rule} failed`);
        return;
      case 'set-rollback-streak':
        this.#d.repo.setRollbackStreak(effect.scope, effect.count);
        return;
      case 'freeze-scope':
        this.#d.repo.freeze(effect.scope, effect.reason, this.#d.clock.now().toISOString());
        return;
      case 'emit':
        if (scope !== undefined) this.#emitDecision({ id: rolloutId, scope }, effect.decision);
        return;
      case 'wake-at':
        this.#wake(rolloutId, effect.atMs);
        return;
    }
  }

  #emitDecision(rollout: { id: string; scope: string }, decision: Decision): void {
    for (const listener of this.#events.listeners('decision') as DecisionListener[]) {
      try {
        listener(rollout, decision);
      } catch (err) {
        this.#fail('decision listener', err);
      }
    }
  }

  /** Keeps a live state (and a promoted one until its activation); forgets a rolled back or aborted one. */
  #remember(state: RolloutState): void {
    if (state.status === 'rolled_back' || state.status === 'aborted') {
      this.#forget(state);
      return;
    }
    this.#states.set(state.id, state);
    this.#byScope.set(state.scope, state.id);
  }

  #forget(state: RolloutState): void {
    this.#states.delete(state.id);
    this.#wakeAt.delete(state.id);
    if (this.#byScope.get(state.scope) === state.id) this.#byScope.delete(state.scope);
  }

  #wake(id: string, atMs: number): void {
    const state = this.#states.get(id);
    if (!state || isFinished(state)) return;
    const current = this.#wakeAt.get(id);
    if (current === undefined || atMs < current || current <= this.#nowMs()) this.#wakeAt.set(id, atMs);
  }

  /** (Re)arms the one timer: the earliest wake-at, at most `maxSleepMs` away while a rollout is live. */
  #schedule(): void {
    if (this.#stopped) return;
    const live = [...this.#states.values()].filter((s) => !isFinished(s));
    const now = this.#nowMs();
    if (live.length === 0) {
      this.#cancelTick?.();
      this.#cancelTick = null;
      this.#tickAt = Number.POSITIVE_INFINITY;
      return;
    }
    let at = now + this.#maxSleepMs;
    for (const s of live) at = Math.min(at, this.#wakeAt.get(s.id) ?? at);
    if (this.#cancelTick !== null && this.#tickAt <= at) return;
    this.#cancelTick?.();
    this.#tickAt = at;
    this.#cancelTick = this.#scheduler.set(() => {
      this.#cancelTick = null;
      this.#tickAt = Number.POSITIVE_INFINITY;
      this.#guard('tick', () => this.#tickDue());
      this.#schedule();
    }, at - now);
  }

  /** Ticks every live rollout whose wake-at is due; on a safety wake with none due, all of them. */
  #tickDue(): void {
    const now = this.#nowMs();
    this.drain();
    const live = [...this.#states.values()].filter((s) => !isFinished(s));
    const due = live.filter((s) => (this.#wakeAt.get(s.id) ?? Number.POSITIVE_INFINITY) <= now);
    for (const s of due.length > 0 ? due : live) {
      this.#wakeAt.delete(s.id);
      this.#guard('tick', () => this.observe(s.id, 'tick'));
    }
  }

  #guard(what: string, fn: () => unknown): void {
    try {
      fn();
    } catch (err) {
      this.#fail(what, err);
    }
  }

  #fail(what: string, err: unknown): void {
    this.#errors++;
    this.#d.logger?.error({ err }, `rollout driver: ${what} failed`);
  }

  #on<A extends unknown[]>(event: string, listener: (...args: A) => void): () => void {
    const l = listener as (...args: unknown[]) => void;
    this.#events.on(event, l);
    return () => this.#events.off(event, l);
  }

  #nowMs(): number {
    return this.#d.clock.now().getTime();
  }
}

/** Equal but for `lastEvaluation`: nothing a restart needs changed. */
function sameCore(a: RolloutState, b: RolloutState): boolean {
  return (
    a.status === b.status &&
    a.endedAtMs === b.endedAtMs &&
    JSON.stringify(a.stage) === JSON.stringify(b.stage) &&
    JSON.stringify(a.cohort) === JSON.stringify(b.cohort)
  );
}
