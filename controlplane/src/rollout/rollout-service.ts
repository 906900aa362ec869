/**
 * RolloutControl over the rollout store and the driver (docs/rollout.md §4, §6): the use cases
 * the REST API and the CLI call. Writes go through the driver (operator events) or `repo.create`
 * (start), each with its audit entry in the same transaction; nothing is written on a refusal.
 *
 * `start` checks, in order: the scope is frozen → ScopeFrozen; a live rollout →
 * LiveRolloutConflict unless `abortLive` (then it is aborted, after every other check passed);
 * the target → RolloutTargetInvalid (generation_not_found 404, already_active 409,
 * generation_failed 409, schema_unsupported 422 — the checks of an activation's dry run); the
 * scope has an LKG and every connected node serves it → else FleetNotConverged (nodes of the
 * live rollout being aborted are not counted: the abort sends them back to the LKG). Policy:
 * the request's (policyVersion 0), else the stored one (its version), else the default (0).
 */
import { randomBytes } from 'node:crypto';
import { isCpError } from '../errors.ts';
import type { ActiveService } from '../generations/active-service.ts';
import type { AuditLog, Clock, GenerationRepo, NodeReader } from '../generations/ports.ts';
import {
  type DecisionView,
  FleetNotConverged,
  type OperateResult,
  type OperatorAction,
  type RolloutControl,
  RolloutTargetInvalid,
  type RolloutView,
  ScopeFrozen,
  type StartRolloutRequest,
} from './rollout-control.ts';
import type { RolloutDriver } from './rollout-driver.ts';
import { reduce } from './rollout-machine.ts';
import { DEFAULT_ROLLOUT_POLICY } from './rollout-policy.ts';
import { type FreezeState, LiveRolloutConflict, RolloutNotFound, type RolloutRepo, type RolloutSummary, type StoredRollout } from './rollout-ports.ts';
import { decisionView, rolloutView } from './rollout-views.ts';

export interface RolloutServiceDeps {
  readonly repo: RolloutRepo;
  readonly driver: RolloutDriver;
  readonly generations: Pick<GenerationRepo, 'getGeneration'>;
  readonly active: Pick<ActiveService, 'getActive' | 'lkg' | 'activate'>;
  readonly nodes: NodeReader;
  readonly audit: AuditLog;
  readonly clock: Clock;
  /** Rollout ids; default `ro_` + 16 random hex digits. */
  readonly newId?: () => string;
}

export class RolloutService implements RolloutControl {
  readonly #d: RolloutServiceDeps;
  readonly #newId: () => string;

  constructor(deps: RolloutServiceDeps) {
    this.#d = deps;
    this.#newId = deps.newId ?? (() => `ro_${randomBytes(8).toString('hex')}`);
  }

  start(req: StartRolloutRequest): RolloutView {
    const { scope, seq } = req;
    const frozen = this.#d.repo.freezeState(scope);
    if (frozen.frozen) throw new ScopeFrozen(frozen);
    const live = this.#d.repo.live(scope);
    if (live && req.abortLive !== true) throw new LiveRolloutConflict(scope, live.id);
    this.#checkTarget(scope, seq, req.actor);
    const lkg = this.#checkFleet(scope, live);
    if (live) this.operate(live.id, 'abort', req.actor, `superseded by a rollout of generation ${seq}`);

    const stored = req.policy === undefined ? this.#d.repo.currentPolicy(scope) : null;
    const policy = req.policy ?? stored?.policy ?? DEFAULT_ROLLOUT_POLICY;
    const policyVersion = stored?.version ?? 0;
    const id = this.#newId();
    const now = this.#d.clock.now();
    const step = reduce(null, {
      type: 'start',
      nowMs: now.getTime(),
      id,
      scope,
      targetSeq: seq,
      lkgSeq: lkg,
      policy,
      fleet: this.#fleet(scope),
      streakBefore: this.#d.repo.freezeState(scope).rollbackStreak,
      actor: req.actor,
    });
    this.#d.repo.transaction(() => {
      this.#d.repo.create({ state: step.state, policyVersion, effects: step.effects });
      this.#d.audit.append({
        at: now.toISOString(),
        actor: req.actor,
        action: 'rollout.start',
        scope,
        detail: { id, seq, lkgSeq: lkg, policyVersion, inlinePolicy: req.policy !== undefined, reason: req.reason ?? '' },
      });
    });
    this.#d.driver.adopt(step.state);
    return this.#view(id)!;
  }

  get(id: string): RolloutView | null {
    return this.#view(id);
  }

  list(scope: string, limit?: number): readonly RolloutSummary[] {
    return this.#d.repo.list(scope, limit);
  }

  live(scope: string): RolloutView | null {
    const row = this.#d.repo.live(scope);
    return row ? this.#view(row.id) : null;
  }

  operate(id: string, action: OperatorAction, actor: string, reason?: string): OperateResult {
    const row = this.#d.repo.get(id);
    if (!row) throw new RolloutNotFound(id);
    const now = this.#d.clock.now();
    const event = { type: action, nowMs: now.getTime(), actor, ...(reason === undefined ? {} : { reason }) };
    if (this.#d.driver.state(id) === null && (row.status === 'running' || row.status === 'paused')) {
      this.#d.driver.adopt(row.state); // a live rollout the driver has not loaded (start() not called yet)
    }
    const audit = (): void =>
      this.#d.audit.append({
        at: now.toISOString(),
        actor,
        action: `rollout.${action}`,
        scope: row.scope,
        detail: { id, seq: row.targetSeq, reason: reason ?? '' },
      });
    const step = this.#d.driver.operate(id, event, audit);
    return { rollout: this.#view(id)!, refused: step === null ? 'finished' : step.refused };
  }

  defaultStrategy(scope: string): 'staged' | 'immediate' {
    const stored = this.#d.repo.currentPolicy(scope);
    if (stored === null) return 'immediate';
    return stored.policy.default_strategy ?? 'staged';
  }

  freezeState(scope: string): FreezeState {
    return this.#d.repo.freezeState(scope);
  }

  unfreeze(scope: string, actor: string, reason: string): FreezeState {
    return this.#d.repo.transaction(() => {
      const before = this.#d.repo.freezeState(scope);
      this.#d.repo.unfreeze(scope);
      this.#d.audit.append({
        at: this.#d.clock.now().toISOString(),
        actor,
        action: 'rollout.unfreeze',
        scope,
        detail: { wasFrozen: before.frozen, rollbackStreak: before.rollbackStreak, reason },
      });
      return this.#d.repo.freezeState(scope);
    });
  }

  waitFinished(id: string, timeoutMs: number, signal?: AbortSignal): Promise<RolloutView> {
    const first = this.#view(id);
    if (first === null) return Promise.reject(new RolloutNotFound(id));
    if (first.final || signal?.aborted === true) return Promise.resolve(first);
    return new Promise((resolve) => {
      const done = (): void => {
        off();
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve(this.#view(id) ?? first);
      };
      const off = this.#d.driver.onFinished((finished) => {
        if (finished === id) done();
      });
      const timer = setTimeout(done, Math.max(0, timeoutMs));
      timer.unref(); // a long-poll never keeps a stopping process alive
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  onDecision(listener: (rollout: { readonly id: string; readonly scope: string }, decision: DecisionView) => void): () => void {
    return this.#d.driver.onDecision((rollout, decision) => listener(rollout, decisionView(decision)));
  }

  #view(id: string): RolloutView | null {
    const row: StoredRollout | null = this.#d.repo.get(id);
    if (!row) return null;
    return rolloutView(row, this.#d.driver.state(id) ?? row.state);
  }

  #fleet(scope: string): { id: string; labels: Readonly<Record<string, string>> }[] {
    return this.#d.nodes
      .listNodes(scope)
      .filter((n) => n.state === 'connected')
      .map((n) => ({ id: n.nodeId, labels: n.labels }));
  }

  #checkTarget(scope: string, seq: number, actor: string): void {
    const generation = this.#d.generations.getGeneration(scope, seq);
    if (!generation) throw new RolloutTargetInvalid('generation_not_found', 404, `scope ${scope} has no generation ${seq}`);
    const active = this.#d.active.getActive(scope);
    if (active?.seq === seq) throw new RolloutTargetInvalid('already_active', 409, `generation ${seq} is already active in scope ${scope}`);
    try {
      this.#d.active.activate(scope, seq, active?.version ?? 0, { actor, reason: 'rollout target check' }, { dryRun: true });
    } catch (err) {
      if (!isCpError(err)) throw err;
      const status = err.code === 'schema_unsupported' ? 422 : err.code === 'generation_not_found' ? 404 : 409;
      throw new RolloutTargetInvalid(err.code, status, err.message);
    }
  }

  /** The LKG seq, when the scope has one and every connected node serves it. */
  #checkFleet(scope: string, live: StoredRollout | null): number {
    const lkg = this.#d.active.lkg(scope);
    if (lkg === null) {
      throw new FleetNotConverged(scope, null, [], `scope ${scope} has no last known good generation yet; its first activation is immediate`);
    }
    const leaving = new Set(live?.state.cohort ?? []);
    const off = this.#d.nodes
      .listNodes(scope)
      .filter((n) => n.state === 'connected' && !leaving.has(n.nodeId) && n.serving?.seq !== lkg.seq)
      .map((n) => n.nodeId);
    if (off.length > 0) {
      throw new FleetNotConverged(scope, lkg.seq, off, `${off.length} connected node(s) of scope ${scope} do not serve its last known good generation ${lkg.seq}: ${off.slice(0, 10).join(', ')}`);
    }
    return lkg.seq;
  }
}
