/**
 * The active pointer of each scope: read, activate (compare-and-swap on `version`), roll back.
 * Each move runs in ONE write transaction that checks the expected version, sets the pointer
 * with version + 1, appends the activation record and the audit entry; listeners are told only
 * after that transaction committed. Also the DistributionSource the gRPC server reads.
 */
import { EventEmitter } from 'node:events';
import type { DesiredGeneration, DistributionSource } from '../distribution/ports.ts';
import { CpError } from '../errors.ts';
import type { Actor } from './generation-service.ts';
import type { ActivationKind, ActivePointer, AuditLog, Clock, GenerationRecord, GenerationRepo } from './ports.ts';

export interface MoveResult {
  /** The pointer after the call (unchanged on dry run or when the target was already active). */
  readonly active: ActivePointer | null;
  /** The generation the call targets. */
  readonly target: { readonly seq: number; readonly digest: string };
  /** True when the pointer moved. */
  readonly moved: boolean;
}

export type RollbackTarget = 'previous' | number;

export class ActiveService implements DistributionSource {
  readonly #repo: GenerationRepo;
  readonly #audit: AuditLog;
  readonly #clock: Clock;
  readonly #events = new EventEmitter();
  readonly #onListenerError: (err: unknown) => void;

  /** `onListenerError` receives what an onActiveChanged listener throws (the move stays committed). */
  constructor(deps: { repo: GenerationRepo; audit: AuditLog; clock: Clock; onListenerError?: (err: unknown) => void }) {
    this.#repo = deps.repo;
    this.#audit = deps.audit;
    this.#clock = deps.clock;
    this.#onListenerError = deps.onListenerError ?? (() => {});
    this.#events.setMaxListeners(0);
  }

  /** The pointer, or null before the scope's first activation (its version is then 0). */
  getActive(scope: string): ActivePointer | null {
    return this.#repo.getActive(scope);
  }

  /**
   * Makes `seq` active if the pointer's version still equals `ifMatchVersion` (0 = never
   * activated). Throws precondition_failed (412) when stale, generation_not_found (404).
   * Activating the already-active seq changes nothing. `dryRun` checks the same things and
   * moves nothing.
   */
  activate(scope: string, seq: number, ifMatchVersion: number, who: Actor, options: { dryRun?: boolean } = {}): MoveResult {
    const result = this.#repo.transaction(() => {
      const current = this.#checkVersion(scope, ifMatchVersion);
      const target = this.#target(scope, seq);
      if (options.dryRun || current?.seq === seq) return unmoved(current, target);
      return this.#move(scope, current, target, 'activate', who);
    });
    if (result.moved) this.#events.emit('changed', scope);
    return result;
  }

  /**
   * Moves the pointer back: `previous` = the newest earlier activation of another generation
   * per the activation log; a number = that seq. `ifMatchVersion` null skips the version check.
   * Throws nothing_to_rollback (409) when nothing is active, there is no earlier generation or
   * the target is already active; generation_not_found (404); precondition_failed (412).
   */
  rollback(scope: string, to: RollbackTarget, ifMatchVersion: number | null, who: Actor): MoveResult {
    const result = this.#repo.transaction(() => {
      const current = ifMatchVersion === null ? this.#repo.getActive(scope) : this.#checkVersion(scope, ifMatchVersion);
      if (!current) throw new CpError('nothing_to_rollback', `scope ${scope} has no active generation`);
      let seq: number;
      if (to === 'previous') {
        const prev = this.#repo.previousActivation(scope, current.version, current.seq);
        if (!prev) throw new CpError('nothing_to_rollback', `scope ${scope} has no earlier active generation`);
        seq = prev.seq;
      } else {
        seq = to;
      }
      const target = this.#target(scope, seq);
      if (target.seq === current.seq) {
        throw new CpError('nothing_to_rollback', `generation ${seq} is already active in scope ${scope}`);
      }
      return this.#move(scope, current, target, 'rollback', who);
    });
    this.#events.emit('changed', scope);
    return result;
  }

  desired(scope: string): DesiredGeneration | null {
    const active = this.#repo.getActive(scope);
    if (!active) return null;
    const record = this.#repo.getGeneration(scope, active.seq);
    if (!record) return null;
    return { scope, seq: record.seq, digest: record.digest, payload: Buffer.from(record.payload, 'utf8') };
  }

  onActiveChanged(listener: (scope: string) => void): () => void {
    const guarded = (scope: string): void => {
      try {
        listener(scope);
      } catch (err) {
        this.#onListenerError(err);
      }
    };
    this.#events.on('changed', guarded);
    return () => this.#events.off('changed', guarded);
  }

  #checkVersion(scope: string, expected: number): ActivePointer | null {
    const current = this.#repo.getActive(scope);
    const version = current?.version ?? 0;
    if (version !== expected) {
      throw new CpError('precondition_failed', `active pointer of ${scope} is at version ${version}, not ${expected}`);
    }
    return current;
  }

  #target(scope: string, seq: number): GenerationRecord {
    const record = this.#repo.getGeneration(scope, seq);
    if (!record) throw new CpError('generation_not_found', `scope ${scope} has no generation ${seq}`);
    return record;
  }

  #move(scope: string, current: ActivePointer | null, target: GenerationRecord, kind: ActivationKind, who: Actor): MoveResult {
    const at = this.#clock.now().toISOString();
    const next: ActivePointer = {
      scope,
      seq: target.seq,
      digest: target.digest,
      version: (current?.version ?? 0) + 1,
      activatedAt: at,
      actor: who.actor,
      reason: who.reason,
    };
    this.#repo.setActive(next);
    this.#repo.appendActivation({ scope, seq: next.seq, version: next.version, kind, actor: who.actor, reason: who.reason, at });
    this.#audit.append({
      at,
      actor: who.actor,
      action: `active.${kind}`,
      scope,
      detail: { seq: next.seq, digest: next.digest, version: next.version, fromSeq: current?.seq ?? null, reason: who.reason },
    });
    return { active: next, target: { seq: target.seq, digest: target.digest }, moved: true };
  }
}

function unmoved(current: ActivePointer | null, target: GenerationRecord): MoveResult {
  return { active: current, target: { seq: target.seq, digest: target.digest }, moved: false };
}
