/**
 * The active pointer of each scope: read, activate (compare-and-swap on `version`), roll back.
 * Each move runs in ONE write transaction that checks the expected version, sets the pointer
 * with version + 1, appends the activation record and the audit entry; listeners are told only
 * after that transaction committed. Also the DistributionSource the gRPC server reads.
 */
import { EventEmitter } from 'node:events';
import type { Change } from '@spooky/config';
import type { DesiredGeneration, DistributionSource } from '../distribution/ports.ts';
import { CpError } from '../errors.ts';
import { changesToTarget } from './generation-diff.ts';
import type { Actor } from './generation-service.ts';
import type { EventSink, LifecycleRepo, LkgRecord } from './lifecycle-ports.ts';
import type { ActivationKind, ActivePointer, AuditLog, Clock, GenerationRecord, GenerationRepo, NodeReader } from './ports.ts';
import { rollbackPrevious } from './rollback-previous.ts';
import { schemaMismatches } from './schema-range.ts';
import { storedVersion } from './stored-configs.ts';

export interface MoveResult {
  /** The pointer after the call (unchanged on dry run or when the target was already active). */
  readonly active: ActivePointer | null;
  /** The generation the call targets. */
  readonly target: { readonly seq: number; readonly digest: string };
  /** True when the pointer moved. */
  readonly moved: boolean;
  /** What the target changes against the generation active before the call ([] when it was active already). */
  readonly changes: readonly Change[];
}

export type RollbackTarget = 'previous' | 'lkg' | number;

export interface MoveOptions {
  /** Check everything, move nothing. */
  readonly dryRun?: boolean;
  /** Activate even a generation marked failed (never skips the schema-range check). */
  readonly force?: boolean;
}

export interface ActiveServiceDeps {
  readonly repo: GenerationRepo;
  readonly audit: AuditLog;
  readonly clock: Clock;
  /** LKG and failed marks; without it there is no LKG (rollback to lkg → nothing_to_rollback). */
  readonly lifecycle?: LifecycleRepo;
  /** Connected nodes and their schema ranges; without it the schema-range check is skipped. */
  readonly nodes?: NodeReader;
  /** Receives `active.changed` inside the move's transaction. */
  readonly events?: EventSink;
  /** Receives what an onActiveChanged listener throws (the move stays committed). */
  readonly onListenerError?: (err: unknown) => void;
}

export class ActiveService implements DistributionSource {
  readonly #repo: GenerationRepo;
  readonly #audit: AuditLog;
  readonly #clock: Clock;
  readonly #events = new EventEmitter();
  readonly #onListenerError: (err: unknown) => void;
  readonly #lifecycle: LifecycleRepo | undefined;
  readonly #nodes: NodeReader | undefined;
  readonly #eventSink: EventSink | undefined;

  constructor(deps: ActiveServiceDeps) {
    this.#repo = deps.repo;
    this.#audit = deps.audit;
    this.#clock = deps.clock;
    this.#lifecycle = deps.lifecycle;
    this.#nodes = deps.nodes;
    this.#eventSink = deps.events;
    this.#onListenerError = deps.onListenerError ?? (() => {});
    this.#events.setMaxListeners(0);
  }

  /** The pointer, or null before the scope's first activation (its version is then 0). */
  getActive(scope: string): ActivePointer | null {
    return this.#repo.getActive(scope);
  }

  /** The scope's last known good generation, or null (none yet, or no lifecycle store). */
  lkg(scope: string): LkgRecord | null {
    return this.#lifecycle?.getLkg(scope) ?? null;
  }

  /**
   * Makes `seq` active if the pointer's version still equals `ifMatchVersion` (0 = never
   * activated). Checks, in order: precondition_failed (412) when stale, generation_not_found
   * (404), generation_failed (409, unless `force`), schema_unsupported (422: a connected node
   * of the scope cannot run its config version). Activating the already-active seq changes
   * nothing. `dryRun` checks the same things and moves nothing.
   */
  activate(scope: string, seq: number, ifMatchVersion: number, who: Actor, options: MoveOptions = {}): MoveResult {
    const result = this.#repo.transaction(() => {
      const current = this.#checkVersion(scope, ifMatchVersion);
      const target = this.#target(scope, seq);
      if (current?.seq === seq) return unmoved(current, target, []);
      this.#checkRunnable(scope, target, options.force === true);
      if (options.dryRun) return unmoved(current, target, changesToTarget(this.#repo, scope, target));
      return this.#move(scope, current, target, 'activate', who);
    });
    if (result.moved) this.#events.emit('changed', scope);
    return result;
  }

  /**
   * Moves the pointer back: `previous` = the newest generation active before the current one
   * that the scope did not leave by a rollback (rollback-previous.ts: never an undo toggle);
   * `lkg` = the scope's last known good; a number = that seq.
   * `ifMatchVersion` null skips the version check. Throws nothing_to_rollback (409) when
   * nothing is active, there is no such earlier generation (or no LKG) or the target is
   * already active; generation_not_found (404); precondition_failed (412); and the
   * generation_failed / schema_unsupported checks of `activate`.
   */
  rollback(scope: string, to: RollbackTarget, ifMatchVersion: number | null, who: Actor, options: MoveOptions = {}): MoveResult {
    const result = this.#repo.transaction(() => {
      const current = ifMatchVersion === null ? this.#repo.getActive(scope) : this.#checkVersion(scope, ifMatchVersion);
      if (!current) throw new CpError('nothing_to_rollback', `scope ${scope} has no active generation`);
      let seq: number;
      if (to === 'previous') {
        const prev = rollbackPrevious(this.#repo.activationHistory(scope));
        if (prev === null) {
          throw new CpError('nothing_to_rollback', `scope ${scope} has no earlier active generation that was not rolled back from`);
        }
        seq = prev;
      } else if (to === 'lkg') {
        const lkg = this.lkg(scope);
        if (!lkg) throw new CpError('nothing_to_rollback', `scope ${scope} has no last known good generation`);
        seq = lkg.seq;
      } else {
        seq = to;
      }
      const target = this.#target(scope, seq);
      if (target.seq === current.seq) {
        throw new CpError('nothing_to_rollback', `generation ${seq} is already active in scope ${scope}`);
      }
      this.#checkRunnable(scope, target, options.force === true);
      if (options.dryRun) return unmoved(current, target, changesToTarget(this.#repo, scope, target));
      return this.#move(scope, current, target, 'rollback', who);
    });
    if (result.moved) this.#events.emit('changed', scope);
    return result;
  }

  desired(scope: string): DesiredGeneration | null {
    const active = this.#repo.getActive(scope);
    if (!active) return null;
    return this.generation(scope, active.seq);
  }

  generation(scope: string, seq: number): DesiredGeneration | null {
    const record = this.#repo.getGeneration(scope, seq);
    if (!record) return null;
    // The schema version from the parse the activation's diff already did (stored-configs.ts).
    const schemaVersion = storedVersion(record);
    return { scope, seq: record.seq, digest: record.digest, payload: Buffer.from(record.payload, 'utf8'), schemaVersion };
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

  #checkRunnable(scope: string, target: GenerationRecord, force: boolean): void {
    if (target.failedReason !== null && !force) {
      throw new CpError('generation_failed', `generation ${target.seq} of ${scope} was rejected: ${target.failedReason}`, {
        extensions: { seq: target.seq, failedReason: target.failedReason },
      });
    }
    if (!this.#nodes) return;
    const mismatches = schemaMismatches(storedVersion(target), this.#nodes.listNodes(scope));
    if (mismatches.nodes.length > 0) {
      const ids = mismatches.nodes.map((n) => n.nodeId);
      throw new CpError(
        'schema_unsupported',
        `config version ${mismatches.version} is outside the schema range of connected node(s) ${ids.join(', ')}`,
        { extensions: { version: mismatches.version, nodes: mismatches.nodes } },
      );
    }
  }

  #move(scope: string, current: ActivePointer | null, target: GenerationRecord, kind: ActivationKind, who: Actor): MoveResult {
    const changes = changesToTarget(this.#repo, scope, target);
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
    this.#eventSink?.append({
      type: 'active.changed',
      scope,
      at,
      data: { kind, seq: next.seq, digest: next.digest, version: next.version, fromSeq: current?.seq ?? null, actor: who.actor },
    });
    return { active: next, target: { seq: target.seq, digest: target.digest }, moved: true, changes };
  }
}

function unmoved(current: ActivePointer | null, target: GenerationRecord, changes: readonly Change[]): MoveResult {
  return { active: current, target: { seq: target.seq, digest: target.digest }, moved: false, changes };
}
