/**
 * An in-memory RolloutControl for API and CLI tests (the real service drives the reducer and the
 * fleet; this one only keeps the port's contract): the precondition order of `start`
 * (ScopeFrozen → LiveRolloutConflict unless abortLive → FleetNotConverged → RolloutTargetInvalid),
 * at most one live rollout per scope, the operator refusals of the state machine
 * (`finished`, `not_running`, `not_paused`), `waitFinished` answering on finish, at the timeout
 * or on abort, and one `onDecision` call per appended decision. Tests move a rollout with
 * `advance` (its stage passed) and `finish` (promoted, or rolled back with the failed gate's
 * numbers), and shape the scope with `defaults`, `notConverged`, `freeze` and `checkTarget`.
 */
import type { GateFailure } from '../rollout/health-gate.ts';
import {
  type DecisionView,
  FleetNotConverged,
  type OperateResult,
  type OperatorAction,
  type RolloutControl,
  type RolloutView,
  ScopeFrozen,
  type StageView,
  type StartRolloutRequest,
} from '../rollout/rollout-control.ts';
import { DEFAULT_ROLLOUT_POLICY, type RolloutPolicy } from '../rollout/rollout-policy.ts';
import { type FreezeState, LiveRolloutConflict, RolloutNotFound, type RolloutSummary } from '../rollout/rollout-ports.ts';
import type { Decision, DecisionKind, Refusal, RolloutStatus } from '../rollout/rollout-state.ts';

interface FakeRollout {
  readonly id: string;
  readonly scope: string;
  readonly targetSeq: number;
  readonly lkgSeq: number;
  readonly policy: RolloutPolicy;
  readonly createdAtMs: number;
  status: RolloutStatus;
  stage: number;
  /** Nodes added per stage index. */
  readonly stageNodes: string[][];
  readonly stageStartMs: (number | null)[];
  updatedAtMs: number;
  endedAtMs: number | null;
  readonly decisions: DecisionView[];
  lastEvaluation: RolloutView['lastEvaluation'];
}

type Listener = Parameters<RolloutControl['onDecision']>[0];

export interface FakeRolloutOptions {
  /** Milliseconds since the epoch; default Date.now. */
  readonly now?: () => number;
  /** Throws (e.g. RolloutTargetInvalid) for a target the real service would refuse; default: accepts every seq. */
  readonly checkTarget?: (scope: string, seq: number) => void;
  /** The LKG a new rollout starts from; default seq − 1 (at least 1). */
  readonly lkgOf?: (scope: string, seq: number) => number;
  /** Nodes each stage adds when it starts; default one node `n<stage>`. */
  readonly nodesOf?: (stage: number) => readonly string[];
}

const FINAL: ReadonlySet<RolloutStatus> = new Set(['promoted', 'rolled_back', 'aborted']);

export class FakeRolloutControl implements RolloutControl {
  /** Per-scope answer of defaultStrategy (absent: immediate). */
  readonly defaults = new Map<string, 'staged' | 'immediate'>();
  /** Scopes whose fleet does not serve the LKG: start throws FleetNotConverged with these nodes. */
  readonly notConverged = new Map<string, readonly string[]>();
  /** Every call of start, in order (tests assert what the API passed on). */
  readonly starts: StartRolloutRequest[] = [];
  readonly #options: FakeRolloutOptions;
  readonly #rollouts = new Map<string, FakeRollout>();
  readonly #freeze = new Map<string, FreezeState>();
  readonly #listeners = new Set<Listener>();
  readonly #waiters = new Map<string, Set<() => void>>();
  #next = 1;

  constructor(options: FakeRolloutOptions = {}) {
    this.#options = options;
  }

  #now(): number {
    return this.#options.now?.() ?? Date.now();
  }

  start(req: StartRolloutRequest): RolloutView {
    const frozen = this.freezeState(req.scope);
    if (frozen.frozen) throw new ScopeFrozen(frozen);
    const live = this.#live(req.scope);
    if (live && !req.abortLive) throw new LiveRolloutConflict(req.scope, live.id);
    const lkgSeq = this.#options.lkgOf?.(req.scope, req.seq) ?? Math.max(1, req.seq - 1);
    const stray = this.notConverged.get(req.scope);
    if (stray) throw new FleetNotConverged(req.scope, lkgSeq, stray, `nodes of ${req.scope} do not serve the LKG seq ${lkgSeq}: ${stray.join(', ')}`);
    this.#options.checkTarget?.(req.scope, req.seq);
    if (live) this.operate(live.id, 'abort', req.actor, req.reason);
    this.starts.push(req);
    const at = this.#now();
    const policy = req.policy ?? DEFAULT_ROLLOUT_POLICY;
    const r: FakeRollout = {
      id: `ro-${String(this.#next++).padStart(4, '0')}`,
      scope: req.scope,
      targetSeq: req.seq,
      lkgSeq,
      policy,
      createdAtMs: at,
      status: 'running',
      stage: 0,
      stageNodes: policy.stages.map(() => []),
      stageStartMs: policy.stages.map(() => null),
      updatedAtMs: at,
      endedAtMs: null,
      decisions: [],
      lastEvaluation: null,
    };
    this.#rollouts.set(r.id, r);
    this.#append(r, { kind: 'started', actor: req.actor, ...(req.reason === undefined ? {} : { reason: req.reason }) });
    this.#startStage(r, 0);
    return this.#view(r);
  }

  get(id: string): RolloutView | null {
    const r = this.#rollouts.get(id);
    return r ? this.#view(r) : null;
  }

  list(scope: string, limit = 50): readonly RolloutSummary[] {
    return [...this.#rollouts.values()]
      .filter((r) => r.scope === scope)
      .reverse()
      .slice(0, limit)
      .map((r) => this.#summary(r));
  }

  live(scope: string): RolloutView | null {
    const r = this.#live(scope);
    return r ? this.#view(r) : null;
  }

  operate(id: string, action: OperatorAction, actor: string, reason?: string): OperateResult {
    const r = this.#must(id);
    const refused = refusalOf(r.status, action);
    if (refused !== null) return { rollout: this.#view(r), refused };
    const who = { actor, ...(reason === undefined ? {} : { reason }) };
    switch (action) {
      case 'pause':
        r.status = 'paused';
        this.#append(r, { kind: 'paused', ...who });
        break;
      case 'resume':
        r.status = 'running';
        this.#append(r, { kind: 'resumed', ...who });
        break;
      case 'promote':
        this.#append(r, { kind: 'promoted_by_operator', ...who });
        break;
      case 'abort':
        this.#end(r, 'aborted', { kind: 'aborted', ...who, nodes: r.stageNodes.flat() });
        break;
    }
    return { rollout: this.#view(r), refused: null };
  }

  defaultStrategy(scope: string): 'staged' | 'immediate' {
    return this.defaults.get(scope) ?? 'immediate';
  }

  freezeState(scope: string): FreezeState {
    return this.#freeze.get(scope) ?? { scope, rollbackStreak: 0, frozen: false, frozenAt: null, reason: null };
  }

  unfreeze(scope: string, _actor: string, _reason: string): FreezeState {
    this.#freeze.delete(scope);
    return this.freezeState(scope);
  }

  waitFinished(id: string, timeoutMs: number, signal?: AbortSignal): Promise<RolloutView> {
    const r = this.#must(id);
    if (FINAL.has(r.status) || signal?.aborted) return Promise.resolve(this.#view(r));
    return new Promise((resolve) => {
      const waiters = this.#waiters.get(id) ?? new Set<() => void>();
      this.#waiters.set(id, waiters);
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve(this.#view(r));
      };
      const timer = setTimeout(done, timeoutMs);
      waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  onDecision(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  // ---- test controls -------------------------------------------------------------------------

  /** The current stage passed: the next one starts (or, past the last stage, the rollout completes). */
  advance(id: string): RolloutView {
    const r = this.#must(id);
    this.#append(r, { kind: 'stage_passed' });
    if (r.stage + 1 >= r.policy.stages.length) return this.finish(id, 'promoted');
    this.#startStage(r, r.stage + 1);
    return this.#view(r);
  }

  /** Ends the rollout: promoted, or rolled back by a failed gate with `failures` as its numbers. */
  finish(id: string, status: 'promoted' | 'rolled_back', failures: readonly GateFailure[] = []): RolloutView {
    const r = this.#must(id);
    if (status === 'promoted') {
      this.#end(r, 'promoted', { kind: 'completed' });
    } else {
      r.lastEvaluation = { at: new Date(this.#now()).toISOString(), kind: 'fail', numbers: { failures } };
      this.#append(r, { kind: 'gate_failed', failures });
      this.#end(r, 'rolled_back', { kind: 'rolled_back', nodes: r.stageNodes.flat() });
    }
    return this.#view(r);
  }

  /** Freezes the scope as two automatic rollbacks in a row would. */
  freeze(scope: string, reason = 'automatic rollbacks in a row'): FreezeState {
    const state = { scope, rollbackStreak: 2, frozen: true, frozenAt: new Date(this.#now()).toISOString(), reason };
    this.#freeze.set(scope, state);
    return state;
  }

  // ---- internals -----------------------------------------------------------------------------

  #must(id: string): FakeRollout {
    const r = this.#rollouts.get(id);
    if (!r) throw new RolloutNotFound(id);
    return r;
  }

  #live(scope: string): FakeRollout | null {
    for (const r of this.#rollouts.values()) if (r.scope === scope && !FINAL.has(r.status)) return r;
    return null;
  }

  #startStage(r: FakeRollout, index: number): void {
    r.stage = index;
    const nodes = [...(this.#options.nodesOf?.(index) ?? [`n${index}`])];
    r.stageNodes[index] = nodes;
    r.stageStartMs[index] = this.#now();
    this.#append(r, { kind: 'stage_started', nodes });
  }

  #end(r: FakeRollout, status: RolloutStatus, line: Omit<Decision, 'atMs' | 'stage'>): void {
    this.#append(r, line);
    r.status = status;
    r.endedAtMs = this.#now();
    for (const wake of [...(this.#waiters.get(r.id) ?? [])]) wake();
    this.#waiters.delete(r.id);
  }

  #append(r: FakeRollout, line: Omit<Decision, 'atMs' | 'stage'> & { kind: DecisionKind }): void {
    const atMs = this.#now();
    const decision: DecisionView = { ...line, atMs, stage: r.stage, at: new Date(atMs).toISOString() };
    r.decisions.push(decision);
    r.updatedAtMs = atMs;
    for (const listener of [...this.#listeners]) listener({ id: r.id, scope: r.scope }, decision);
  }

  #summary(r: FakeRollout): RolloutSummary {
    return {
      id: r.id,
      scope: r.scope,
      targetSeq: r.targetSeq,
      lkgSeq: r.lkgSeq,
      policyVersion: 0,
      status: r.status,
      createdAt: new Date(r.createdAtMs).toISOString(),
      updatedAt: new Date(r.updatedAtMs).toISOString(),
    };
  }

  #view(r: FakeRollout): RolloutView {
    const stages: StageView[] = r.policy.stages.map((s, index) => {
      const started = r.stageStartMs[index] ?? null;
      return {
        index,
        name: s.name,
        state: index < r.stage || (index === r.stage && r.status === 'promoted') ? 'done' : index === r.stage ? 'current' : 'pending',
        nodes: [...(r.stageNodes[index] ?? [])],
        soakMs: s.soak_ms,
        startedAt: started === null ? null : new Date(started).toISOString(),
      };
    });
    return {
      ...this.#summary(r),
      final: FINAL.has(r.status),
      endedAt: r.endedAtMs === null ? null : new Date(r.endedAtMs).toISOString(),
      currentStage: r.stage,
      stages,
      cohort: r.stageNodes.flat(),
      lastEvaluation: r.lastEvaluation,
      decisions: [...r.decisions],
      policy: r.policy,
    };
  }
}

/** The state machine's refusals (docs/rollout.md §4). */
function refusalOf(status: RolloutStatus, action: OperatorAction): Refusal | null {
  if (FINAL.has(status)) return 'finished';
  if (action === 'pause' && status === 'paused') return 'not_running';
  if (action === 'resume' && status === 'running') return 'not_paused';
  return null;
}
