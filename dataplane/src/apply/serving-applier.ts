/**
 * The GenerationApplier (control/generation-applier.ts) of a serving process:
 *
 *   payload bytes → JSON.parse → parseConfig → compileGeneration → listeners.prepare
 *   → store.swap → state.retain → listeners.commit
 *
 * All-or-nothing: any failure before the swap leaves the served generation, its listeners and
 * LongLivedState's serving entries as they were, and returns {ok:false, phase, retryable,
 * issues}. (compileGeneration may create transports for new backends; the next retain()
 * collects them.) Apply calls are serialized: one runs at a time, in call order.
 *
 * Logs exactly one line per apply: "generation applied" (seq, digest, source, listeners) or
 * "generation rejected" (phase, issues).
 */
import { type ConfigIssue, parseConfig } from '@spooky/config';
import type pino from 'pino';
import { compileGeneration } from '../compile/compile-generation.ts';
import type { ApplyPhase, ApplyResult, GenerationApplier, GenerationRef, ServingSource } from '../control/generation-applier.ts';
import type { ListenerInfo, ListenerManager } from '../ingress/listener-manager.ts';
import type { ApplyObserver } from '../observability/metrics.ts';
import type { GenerationStore } from '../runtime/generation-store.ts';
import type { LongLivedState } from '../runtime/long-lived-state.ts';

export interface ServingApplierDeps {
  readonly store: GenerationStore;
  readonly state: LongLivedState;
  readonly listeners: ListenerManager;
  readonly logger: pino.Logger;
  readonly observer?: ApplyObserver;
}

export interface ServingApplier extends GenerationApplier {
  /** Listeners of the served generation, with bound ports. */
  listeners(): ListenerInfo[];
}

export function createServingApplier(deps: ServingApplierDeps): ServingApplier {
  const { store, state, listeners, logger, observer } = deps;
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
    let input: unknown;
    try {
      input = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'));
    } catch (err) {
      return reject(ref, source, 'parse', false, [{ pointer: '', code: 'config.syntax', message: `invalid JSON: ${(err as Error).message}` }]);
    }
    const parsed = parseConfig(input);
    if (!parsed.ok) return reject(ref, source, 'parse', false, parsed.issues);

    const compiled = compileGeneration(parsed.config, { scope: ref.scope, seq: ref.seq, digest: ref.digest }, state);
    if (!compiled.ok) return reject(ref, source, 'compile', false, compiled.issues);

    const prepared = await listeners.prepare(parsed.config.listeners, parsed.config.performance);
    if (!prepared.ok) return reject(ref, source, 'apply', prepared.retryable, prepared.issues);

    store.swap(compiled.generation);
    serving = { ref: { scope: ref.scope, seq: ref.seq, digest: ref.digest }, source };
    listeners.commit(prepared.prepared);
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
