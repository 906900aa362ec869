/**
 * A GenerationApplier decorator, wired in main.ts between the control client and the serving
 * applier: every generation the control plane delivered and the inner applier applied is
 * written to the disk cache (after the swap; the Ack waits neither for the disk nor for the
 * file's encoding, which starts on the next turn of the event loop). It also
 * remembers the facts cold-start.ts needs: whether the control plane delivered anything yet,
 * and the last rejected apply (to say why nothing is served).
 *
 * The cache holds the SERVING generation only, never a candidate (cold start must not come
 * back on a generation still soaking): hold() keeps the candidate's bytes in memory and a
 * successful promote() writes them.
 *
 * Logs "generation cached" {seq, digest, path, ms} after each durable write, or
 * "generation cache write failed" {code, err}: a failed write never changes what is served.
 */
import type pino from 'pino';
import type { ApplyPhase, GenerationApplier, GenerationRef, ServingSource } from '../control/generation-applier.ts';
import type { GenerationCache } from './generation-cache.ts';

export interface Rejection {
  readonly ref: GenerationRef;
  readonly source: ServingSource;
  readonly phase: ApplyPhase;
  /** First issue's code and message, for the admin reason. */
  readonly issue: string;
}

export interface CachingApplier extends GenerationApplier {
  /** True once the control plane handed over a generation (whatever the apply's result). */
  controlPlaneDelivered(): boolean;
  /** The last rejected apply, cleared by the next success; null when none. */
  lastRejection(): Rejection | null;
  /** Resolves when every cache write started so far has finished (for tests and shutdown). */
  flushed(): Promise<void>;
}

export function withGenerationCache(inner: GenerationApplier, cache: GenerationCache, logger: pino.Logger): CachingApplier {
  const log = logger.child({ component: 'generation-cache' });
  let delivered = false;
  let rejection: Rejection | null = null;
  let writes: Promise<void> = Promise.resolve();
  /** The bytes of the held candidate, written once it is promoted. */
  let held: { ref: GenerationRef; payload: Uint8Array } | null = null;

  const save = (ref: GenerationRef, payload: Uint8Array): void => {
    const started = Date.now();
    // Encoding the file (JSON.stringify of the ~4 MiB payload: tens of ms) waits for the
    // next turn of the event loop, so the Ack the caller writes on return goes out first.
    const write = nextTurn().then(() => cache.save(ref, payload)).then(
      () => log.info({ seq: ref.seq, digest: ref.digest, path: cache.path, ms: Date.now() - started }, 'generation cached'),
      (err: unknown) =>
        log.warn(
          { seq: ref.seq, digest: ref.digest, path: cache.path, code: (err as NodeJS.ErrnoException).code, err: (err as Error).message },
          'generation cache write failed',
        ),
    );
    writes = writes.then(() => write);
  };

  return {
    serving: () => inner.serving(),
    controlPlaneDelivered: () => delivered,
    lastRejection: () => rejection,
    flushed: () => writes,
    async apply(payload, ref, source) {
      if (source === 'control-plane') delivered = true;
      const result = await inner.apply(payload, ref, source);
      if (!result.ok) {
        const first = result.issues[0];
        rejection = { ref, source, phase: result.phase, issue: first ? `${first.code}: ${first.message}` : 'no issue given' };
        return result;
      }
      rejection = null;
      held = null;
      if (source === 'control-plane') save(ref, payload);
      return result;
    },
    async hold(payload, ref, canary) {
      delivered = true;
      const result = await inner.hold(payload, ref, canary);
      if (result.ok) held = { ref, payload };
      return result;
    },
    async promote() {
      const result = await inner.promote();
      const promoted = held;
      if (result.ok && promoted !== null && inner.serving()?.ref.digest === promoted.ref.digest) save(promoted.ref, promoted.payload);
      if (result.ok) held = null;
      return result;
    },
    async dropCandidate() {
      await inner.dropCandidate();
      held = null;
    },
  };
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
