/**
 * The GenerationApplier (control/generation-applier.ts) of a serving process:
 *
 *   [refused: crashed on before?] → [payload over the memory budget?] → journal.begin
 *   → JSON.parse → parseConfig → [counts over the memory budget?] → compileGeneration
 *   → listeners.prepare → store.swap → listeners.commit → state.retain → journal.end
 *
 * A generation this node crashed on (apply journal) or over its memory budget
 * (generation-budget.ts) is rejected non-retryably in phase `compile` before anything of it
 * is built.
 *
 * All-or-nothing: any failure before the swap leaves the served generation, its listeners and
 * LongLivedState's serving entries as they were, and returns {ok:false, phase, retryable,
 * issues}. (A compile that fails creates nothing; one that succeeds but whose listeners fail
 * leaves transport entries for new backends, without pools, which the next retain() drops.)
 * Apply calls are serialized: one runs at a time, in call order (apply-queue.ts).
 *
 * Logs exactly one line per apply: "generation applied" (seq, digest, source, listeners) or
 * "generation rejected" (phase, issues).
 *
 * Candidates (staged rollout, docs/rollout.md §5): prepare(..., canary) compiles exactly as an
 * apply (journal, budget) but commit() holds the generation beside the serving one
 * (store.hold) instead of swapping it in. One listener set serves both generations, so a
 * candidate whose `listeners` differ from the serving generation's is refused (phase apply,
 * non-retryable, `canary.listeners_differ`): such a change is rolled out with
 * `canary.percent: 0`. promote() swaps the candidate in (its listener settings committed);
 * dropCandidate() forgets it. After each of them state.retain keeps the pools of every
 * generation still held. Log lines: "candidate held" {seq, digest, percent}, "candidate
 * promoted" {seq, digest}, "candidate dropped" {seq, digest}.
 */
import { type ConfigIssue, parseConfig } from '@spooky/config';
import type pino from 'pino';
import type { ApplyJournal } from '../cache/apply-journal.ts';
import { compileGeneration } from '../compile/compile-generation.ts';
import {
  type ApplyPhase,
  type ApplyResult,
  type GenerationApplier,
  type GenerationRef,
  type HeldCandidateInfo,
  LISTENERS_DIFFER_CODE,
  type ServingSource,
} from '../control/generation-applier.ts';
import type { ListenerInfo, ListenerManager } from '../ingress/listener-manager.ts';
import type { ApplyObserver } from '../observability/metrics.ts';
import type { CanaryAssignment } from '../rollout/in-node-canary.ts';
import type { GenerationStore } from '../runtime/generation-store.ts';
import type { LongLivedState } from '../runtime/long-lived-state.ts';
import { ApplyQueue } from './apply-queue.ts';
import { countGeneration, overBudget } from './generation-budget.ts';
import type { PreparedApply } from './prepared-apply.ts';
import { unverifiedHttpsUpstreams } from './unverified-https-upstreams.ts';

export type { PreparedApply } from './prepared-apply.ts';

export interface ServingApplierDeps {
  readonly store: GenerationStore;
  readonly state: LongLivedState;
  readonly listeners: ListenerManager;
  readonly logger: pino.Logger;
  readonly observer?: ApplyObserver;
  /** Memory budget of one generation (generation-budget.ts); none when absent. */
  readonly maxGenerationBytes?: number;
  /** The "applying" marker (cache/apply-journal.ts); none in standalone mode. */
  readonly journal?: ApplyJournal;
}

export interface ServingApplier extends GenerationApplier {
  /** Listeners of the served generation, with bound ports. */
  listeners(): ListenerInfo[];
  /**
   * Prepares without swapping (see PreparedApply); apply() is prepare() then commit(). With
   * `canary`, commit() holds the generation as the candidate instead (hold() is that).
   */
  prepare(payload: Uint8Array, ref: GenerationRef, source: ServingSource, canary?: CanaryAssignment): Promise<PreparedApply>;
}

export function createServingApplier(deps: ServingApplierDeps): ServingApplier {
  const { store, state, listeners, logger, observer, journal } = deps;
  const budget = deps.maxGenerationBytes ?? Number.POSITIVE_INFINITY;
  let serving: { ref: GenerationRef; source: ServingSource } | null = null;
  let candidate: HeldCandidateInfo | null = null;
  /** Every apply, hold, promote and drop runs after those called before it. */
  const queue = new ApplyQueue();

  /** Keeps the pools, health checks and stats of every generation still held. */
  const retain = (): void => {
    const current = store.current();
    if (current === null) return;
    void state.retain(current, store.candidate()?.generation ?? null).catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'closing retired transports failed'));
  };

  /**
   * When the apply running now started (prepareNow / promoteNow; the queue runs one at a time):
   * the observer's apply duration (spooky_config_apply_duration_seconds) is measured from it.
   */
  let applyStartedAt = 0;
  const sinceStart = (from: number): number => (performance.now() - from) / 1000;

  const reject = (ref: GenerationRef, source: ServingSource, phase: ApplyPhase, retryable: boolean, issues: readonly ConfigIssue[]): ApplyResult => {
    observer?.rejected(sinceStart(applyStartedAt));
    logger.warn({ seq: ref.seq, digest: ref.digest, source, phase, retryable, issues }, 'generation rejected');
    return { ok: false, phase, retryable, issues };
  };

  const settled = (result: ApplyResult): PreparedApply => ({ result, commit: () => undefined, abort: async () => undefined, flushed: async () => undefined });

  const prepareNow = async (payload: Uint8Array, ref: GenerationRef, source: ServingSource, canary: CanaryAssignment | undefined): Promise<PreparedApply> => {
    applyStartedAt = performance.now();
    if (canary !== undefined && candidate !== null && candidate.ref.digest === ref.digest && candidate.percent === canary.percent) {
      logger.info({ scope: ref.scope, seq: ref.seq, digest: ref.digest }, 'candidate already held');
      return settled({ ok: true });
    }
    // The same generation from the same source again (a push re-sent after a reconnect raced
    // its ack): it is already swapped in; applying twice would only churn. A different source
    // (the control plane confirming what the disk cache gave us) re-applies, so the cache is
    // re-saved and the source is reported truthfully.
    if (canary === undefined && serving !== null && serving.source === source && serving.ref.digest === ref.digest && serving.ref.seq === ref.seq && candidate === null) {
      logger.info({ scope: ref.scope, seq: ref.seq, digest: ref.digest, source }, 'generation already serving');
      return settled({ ok: true });
    }
    const crashed = journal?.refusal(ref) ?? null;
    if (crashed !== null) return settled(reject(ref, source, 'compile', false, [crashed]));
    // The payload term alone is a lower bound of the estimate: refuse before JSON.parse.
    const tooBig = overBudget({ payloadBytes: payload.byteLength, upstreams: 0, backends: 0, matchers: 0, activeChecks: 0 }, budget);
    if (tooBig !== null) return settled(reject(ref, source, 'compile', false, [tooBig]));
    // From here on a crash (out of memory, a library bug) leaves the marker behind, and the
    // restarted process refuses this generation instead of dying on it again.
    await journal?.begin(ref);
    let prepared: PreparedApply;
    try {
      prepared = await parseCompilePrepare(payload, ref, source, canary);
    } catch (err) {
      await journal?.end();
      throw err;
    }
    if (!prepared.result.ok) {
      await journal?.end();
      return prepared;
    }
    let done = false;
    let ended: Promise<void> = Promise.resolve();
    return {
      result: prepared.result,
      flushed: () => ended,
      commit() {
        if (done) return;
        done = true;
        try {
          prepared.commit();
        } finally {
          ended = journal?.end() ?? Promise.resolve();
        }
      },
      async abort() {
        if (done) return;
        done = true;
        await prepared.abort();
        await journal?.end();
      },
    };
  };

  const parseCompilePrepare = async (payload: Uint8Array, ref: GenerationRef, source: ServingSource, canary: CanaryAssignment | undefined): Promise<PreparedApply> => {
    // Commit runs later (after every worker prepared): the duration includes that wait.
    const startedAt = applyStartedAt;
    let input: unknown;
    try {
      input = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'));
    } catch (err) {
      return settled(reject(ref, source, 'parse', false, [{ pointer: '', code: 'config.syntax', message: `invalid JSON: ${(err as Error).message}` }]));
    }
    const parsed = parseConfig(input);
    if (!parsed.ok) return settled(reject(ref, source, 'parse', false, parsed.issues));

    const over = overBudget(countGeneration(parsed.config, payload.byteLength), budget);
    if (over !== null) return settled(reject(ref, source, 'compile', false, [over]));

    const baseline = store.current();
    if (canary !== undefined) {
      if (baseline === null) {
        return settled(reject(ref, source, 'apply', true, [{ pointer: '', code: 'canary.nothing_served', message: 'a candidate needs a serving generation beside it' }]));
      }
      if (JSON.stringify(baseline.config.listeners) !== JSON.stringify(parsed.config.listeners)) {
        return settled(
          reject(ref, source, 'apply', false, [
            {
              pointer: '/listeners',
              code: LISTENERS_DIFFER_CODE,
              message: 'the candidate listens differently from the serving generation; one listener set serves both, so roll such a change out with canary.percent: 0',
            },
          ]),
        );
      }
    }

    const compiled = compileGeneration(parsed.config, { scope: ref.scope, seq: ref.seq, digest: ref.digest }, state);
    if (!compiled.ok) return settled(reject(ref, source, 'compile', false, compiled.issues));

    if (canary !== undefined) {
      return {
        result: { ok: true },
        flushed: async () => undefined,
        commit() {
          store.hold(compiled.generation, canary);
          candidate = { ref: { scope: ref.scope, seq: ref.seq, digest: ref.digest }, percent: canary.percent };
          // retain() starts the candidate's health checkers synchronously, still inside the marker.
          retain();
          logger.info({ scope: ref.scope, seq: ref.seq, digest: ref.digest, percent: canary.percent }, 'candidate held');
        },
        // Nothing was opened: the candidate's pools are dropped by the next retain().
        abort: async () => undefined,
      };
    }

    const prepared = await listeners.prepare(parsed.config.listeners, parsed.config.performance);
    if (!prepared.ok) return settled(reject(ref, source, 'apply', prepared.retryable, prepared.issues));

    return {
      result: { ok: true },
      flushed: async () => undefined,
      commit() {
        store.swap(compiled.generation);
        serving = { ref: { scope: ref.scope, seq: ref.seq, digest: ref.digest }, source };
        candidate = null;
        listeners.commit(prepared.prepared);
        // retain() starts new health checkers (probe pools) synchronously, still inside the marker.
        retain();
        observer?.applied(ref, sinceStart(startedAt));
        logger.info({ scope: ref.scope, seq: ref.seq, digest: ref.digest, source, listeners: listeners.serving() }, 'generation applied');
        const unverified = unverifiedHttpsUpstreams(parsed.config);
        if (unverified.length > 0) {
          logger.warn({ seq: ref.seq, upstreams: unverified }, 'upstream TLS verification is off (verify_certificates: false in upstream_tls or upstream.<name>.tls): HTTPS backends are not authenticated');
        }
      },
      async abort() {
        // Pools of the compiled generation are dropped by the next retain() (see above).
        await listeners.abort(prepared.prepared);
        logger.info({ scope: ref.scope, seq: ref.seq, digest: ref.digest, source }, 'prepared generation dropped');
      },
    };
  };

  /** Runs prepare in the serialized queue, which stays held until the commit or abort. */
  const prepare = (payload: Uint8Array, ref: GenerationRef, source: ServingSource, canary?: CanaryAssignment): Promise<PreparedApply> =>
    queue.runPrepared(
      () => prepareNow(payload, ref, source, canary),
      (err: unknown) => {
        // A bug, not a config problem: report it as a rejected apply, keep serving.
        logger.error({ err: (err as Error).message, stack: (err as Error).stack }, 'apply failed unexpectedly');
        return settled(reject(ref, source, 'apply', true, [{ pointer: '', code: 'apply.internal', message: 'internal error while applying' }]));
      },
    );

  const commitNow = async (prepared: PreparedApply, ref: GenerationRef, source: ServingSource): Promise<ApplyResult> => {
    if (!prepared.result.ok) return prepared.result;
    try {
      prepared.commit();
    } catch (err) {
      logger.error({ err: (err as Error).message, stack: (err as Error).stack }, 'apply failed unexpectedly');
      return reject(ref, source, 'apply', true, [{ pointer: '', code: 'apply.internal', message: 'internal error while applying' }]);
    }
    await prepared.flushed();
    return prepared.result;
  };

  const promoteNow = async (): Promise<ApplyResult> => {
    applyStartedAt = performance.now();
    const held = store.candidate();
    const info = candidate;
    if (held === null || info === null) {
      return { ok: false, phase: 'apply', retryable: true, issues: [{ pointer: '', code: 'canary.no_candidate', message: 'no candidate is held to promote' }] };
    }
    const config = held.generation.config;
    // Same listener set (checked at hold): this keeps every socket and commits the candidate's settings.
    const prepared = await listeners.prepare(config.listeners, config.performance);
    if (!prepared.ok) return reject(info.ref, 'control-plane', 'apply', prepared.retryable, prepared.issues);
    store.promote();
    serving = { ref: info.ref, source: 'control-plane' };
    candidate = null;
    listeners.commit(prepared.prepared);
    retain();
    observer?.applied(info.ref, sinceStart(applyStartedAt));
    logger.info({ scope: info.ref.scope, seq: info.ref.seq, digest: info.ref.digest }, 'candidate promoted');
    return { ok: true };
  };

  const dropNow = async (): Promise<void> => {
    const info = candidate;
    if (store.dropCandidate() === null || info === null) return;
    candidate = null;
    retain();
    logger.info({ scope: info.ref.scope, seq: info.ref.seq, digest: info.ref.digest }, 'candidate dropped');
  };

  return {
    serving: () => (serving === null || candidate === null ? serving : { ...serving, candidate }),
    listeners: () => listeners.serving(),
    prepare,
    async hold(payload, ref, canary) {
      return commitNow(await prepare(payload, ref, 'control-plane', canary), ref, 'control-plane');
    },
    promote: () => queue.run(promoteNow),
    dropCandidate: () => queue.run(dropNow),
    async apply(payload, ref, source) {
      return commitNow(await prepare(payload, ref, source), ref, source);
    },
  };
}
