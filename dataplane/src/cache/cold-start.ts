/**
 * Boot with a control plane (CONTROL-PLANE.md "gRPC ConfigSync", rule 8): main.ts starts the
 * control client and this fallback together. If the control plane has not delivered a
 * generation within `graceMs`, the disk cache is loaded and, when it is intact, of our scope
 * and younger than `maxAgeMs`, applied through the same applier with source 'disk-cache'.
 * Otherwise nothing is served (/ready stays 503) and the reason is logged and shown by the
 * admin /generation. A control-plane push later replaces whatever came from the cache, as usual
 * (applies are serialized, so a push that arrives while the cache applies wins).
 *
 * Log lines: "disk cache not served" {code, reason, quarantinedTo?} (warn) when the cache is
 * missing, corrupt, stale or of another scope; the applier logs "generation applied" /
 * "generation rejected" with source 'disk-cache' when the cache is applied.
 */
import type pino from 'pino';
import type { CacheRefusalCode } from './cache-entry.ts';
import type { CachingApplier } from './caching-applier.ts';
import type { GenerationCache } from './generation-cache.ts';

export interface ColdStartOptions {
  readonly applier: CachingApplier;
  readonly cache: Pick<GenerationCache, 'load'>;
  readonly scope: string;
  readonly graceMs: number;
  readonly maxAgeMs: number;
  readonly logger: pino.Logger;
}

export type ColdStartOutcome =
  /** The control plane delivered first; the cache was not read. */
  | { readonly kind: 'control-plane' }
  | { readonly kind: 'disk-cache'; readonly seq: number }
  /** The cache was applied but the applier refused it. */
  | { readonly kind: 'cache-rejected'; readonly reason: string }
  | { readonly kind: 'not-served'; readonly code: CacheRefusalCode | 'cache.error'; readonly reason: string }
  | { readonly kind: 'cancelled' };

export interface ColdStart {
  /** Settles once the fallback decided (or was cancelled); never rejects. */
  readonly outcome: Promise<ColdStartOutcome>;
  /** Why nothing is served right now; null while something is. */
  notServingReason(): string | null;
  /** Stops a fallback that has not fired yet (shutdown). */
  cancel(): void;
}

export function startColdStart(opts: ColdStartOptions): ColdStart {
  const { applier, cache, scope, graceMs, maxAgeMs } = opts;
  const log = opts.logger.child({ component: 'cold-start' });
  let reason = `waiting for the control plane; disk cache fallback after ${graceMs} ms`;
  let cancelled = false;
  let settle: (o: ColdStartOutcome) => void = () => undefined;
  const outcome = new Promise<ColdStartOutcome>((resolve) => {
    settle = resolve;
  });

  const controlPlaneFirst = (): boolean => applier.controlPlaneDelivered() || applier.serving() !== null;

  const fallback = async (): Promise<ColdStartOutcome> => {
    if (cancelled) return { kind: 'cancelled' };
    if (controlPlaneFirst()) return { kind: 'control-plane' };
    const loaded = await cache.load({ scope, maxAgeMs });
    // The control plane may have delivered while the file was read: its generation wins.
    if (cancelled) return { kind: 'cancelled' };
    if (controlPlaneFirst()) return { kind: 'control-plane' };
    if (loaded.kind !== 'usable') {
      const extra = loaded.kind === 'corrupt' ? { quarantinedTo: loaded.quarantinedTo } : {};
      reason = `${loaded.code}: ${loaded.reason}${loaded.kind === 'corrupt' && loaded.quarantinedTo ? `; moved to ${loaded.quarantinedTo}` : ''}`;
      log.warn({ code: loaded.code, reason: loaded.reason, ...extra }, 'disk cache not served');
      return { kind: 'not-served', code: loaded.code, reason };
    }
    const { ref, payload, savedAtMs } = loaded.entry;
    log.info({ seq: ref.seq, digest: ref.digest, savedAt: new Date(savedAtMs).toISOString() }, 'control plane silent: applying the disk cache');
    const result = await applier.apply(Buffer.from(payload, 'utf8'), ref, 'disk-cache');
    if (result.ok) return { kind: 'disk-cache', seq: ref.seq };
    const first = result.issues[0];
    reason = `cache.rejected: cached generation seq ${ref.seq} was rejected in phase ${result.phase}${first ? ` (${first.code}: ${first.message})` : ''}`;
    return { kind: 'cache-rejected', reason };
  };

  const timer = setTimeout(() => {
    fallback().then(settle, (err: unknown) => {
      reason = `cache.error: reading the disk cache failed: ${(err as Error).message}`;
      log.error({ err: (err as Error).message }, 'disk cache fallback failed');
      settle({ kind: 'not-served', code: 'cache.error', reason });
    });
  }, graceMs);
  timer.unref();

  return {
    outcome,
    notServingReason() {
      if (applier.serving() !== null) return null;
      const rejected = applier.lastRejection();
      if (rejected !== null && rejected.source === 'control-plane') {
        return `control plane generation seq ${rejected.ref.seq} was rejected in phase ${rejected.phase} (${rejected.issue})`;
      }
      return reason;
    },
    cancel() {
      if (cancelled) return;
      cancelled = true;
      clearTimeout(timer);
      settle({ kind: 'cancelled' });
    },
  };
}
