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
 * leaves transport entries for new backends, without pools, which the next retain() drops.) Apply calls are serialized: one runs at a time, in call order.
 *
 * Logs exactly one line per apply: "generation applied" (seq, digest, source, listeners) or
 * "generation rejected" (phase, issues).
 */
import { type ConfigIssue, parseConfig } from '@spooky/config';
import type pino from 'pino';
import type { ApplyJournal } from '../cache/apply-journal.ts';
import { compileGeneration } from '../compile/compile-generation.ts';
import type { ApplyPhase, ApplyResult, GenerationApplier, GenerationRef, ServingSource } from '../control/generation-applier.ts';
import type { ListenerInfo, ListenerManager } from '../ingress/listener-manager.ts';
import type { ApplyObserver } from '../observability/metrics.ts';
import type { GenerationStore } from '../runtime/generation-store.ts';
import type { LongLivedState } from '../runtime/long-lived-state.ts';
import { countGeneration, overBudget } from './generation-budget.ts';

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
}

export function createServingApplier(deps: ServingApplierDeps): ServingApplier {
  const { store, state, listeners, logger, observer, journal } = deps;
  const budget = deps.maxGenerationBytes ?? Number.POSITIVE_INFINITY;
  let serving: { ref: GenerationRef; source: ServingSource } | null = null;
  let queue: Promise<unknown> = Promise.resolve();

  const reject = (ref: GenerationRef, source: ServingSource, phase: ApplyPhase, retryable: boolean, issues: readonly ConfigIssue[]): ApplyResult => {
    observer?.rejected();
    logger.warn({ seq: ref.seq, digest: ref.digest, source, phase, retryable, issues }, 'generation rejected');
    return { ok: false, phase, retryable, issues };
  };

  const applyNow = async (payload: Uint8Array, ref: GenerationRef, source: ServingSource): Promise<ApplyResult> => {
    // The same generation from the same source again (a push re-sent after a reconnect raced
    // its ack): it is already swapped in; applying twice would only churn. A different source
    // (the control plane confirming what the disk cache gave us) re-applies, so the cache is
    // re-saved and the source is reported truthfully.
    if (serving !== null && serving.source === source && serving.ref.digest === ref.digest && serving.ref.seq === ref.seq) {
      logger.info({ scope: ref.scope, seq: ref.seq, digest: ref.digest, source }, 'generation already serving');
      return { ok: true };
    }
    const crashed = journal?.refusal(ref) ?? null;
    if (crashed !== null) return reject(ref, source, 'compile', false, [crashed]);
    // The payload term alone is a lower bound of the estimate: refuse before JSON.parse.
    const tooBig = overBudget({ payloadBytes: payload.byteLength, upstreams: 0, backends: 0, matchers: 0, activeChecks: 0 }, budget);
    if (tooBig !== null) return reject(ref, source, 'compile', false, [tooBig]);
    // From here on a crash (out of memory, a library bug) leaves the marker behind, and the
    // restarted process refuses this generation instead of dying on it again.
    await journal?.begin(ref);
    try {
      return await parseCompileSwap(payload, ref, source);
    } finally {
      await journal?.end();
    }
  };

  const parseCompileSwap = async (payload: Uint8Array, ref: GenerationRef, source: ServingSource): Promise<ApplyResult> => {
    let input: unknown;
    try {
      input = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'));
    } catch (err) {
      return reject(ref, source, 'parse', false, [{ pointer: '', code: 'config.syntax', message: `invalid JSON: ${(err as Error).message}` }]);
    }
    const parsed = parseConfig(input);
    if (!parsed.ok) return reject(ref, source, 'parse', false, parsed.issues);

    const over = overBudget(countGeneration(parsed.config, payload.byteLength), budget);
    if (over !== null) return reject(ref, source, 'compile', false, [over]);

    const compiled = compileGeneration(parsed.config, { scope: ref.scope, seq: ref.seq, digest: ref.digest }, state);
    if (!compiled.ok) return reject(ref, source, 'compile', false, compiled.issues);

    const prepared = await listeners.prepare(parsed.config.listeners);
    if (!prepared.ok) return reject(ref, source, 'apply', prepared.retryable, prepared.issues);

    store.swap(compiled.generation);
    serving = { ref: { scope: ref.scope, seq: ref.seq, digest: ref.digest }, source };
    listeners.commit(prepared.prepared);
    // retain() starts new health checkers (probe pools) synchronously, still inside the marker.
    void state.retain(compiled.generation).catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'closing retired transports failed'));
    observer?.applied(ref);
    logger.info({ scope: ref.scope, seq: ref.seq, digest: ref.digest, source, listeners: listeners.serving() }, 'generation applied');
    return { ok: true };
  };

  return {
    serving: () => serving,
    listeners: () => listeners.serving(),
    apply(payload, ref, source) {
      const run = queue.then(() => applyNow(payload, ref, source));
      queue = run.catch(() => undefined);
      return run.catch((err: unknown) => {
        // A bug, not a config problem: report it as a rejected apply, keep serving.
        logger.error({ err: (err as Error).message, stack: (err as Error).stack }, 'apply failed unexpectedly');
        return reject(ref, source, 'apply', true, [{ pointer: '', code: 'apply.internal', message: 'internal error while applying' }]);
      });
    },
  };
}
