/**
 * The node's per-generation health for the control plane's Reports: the windows every serving
 * process closed (health-feed.ts), summed per generation. `health()` is
 * `ControlClientOptions.health`: called when a Report is sent, it closes the summed windows at
 * that moment and returns one window per generation that had requests since the previous call
 * (from = the earliest process window's start, to = the latest one's end: the time actually
 * measured), oldest generation first. Bounded: at most `maxGenerations` (default 8) are summed
 * at once; a window of a further generation drops the oldest sum (counted in `dropped`). A
 * process window of another bucket layout is dropped too (it cannot be summed).
 */
import type { GenerationHealth } from '@spooky/proto';
import { LATENCY_BUCKETS } from '../observability/generation-health.ts';

const DEFAULT_MAX_GENERATIONS = 8;

interface Sum {
  readonly window: GenerationHealth;
}

export class FleetHealth {
  readonly #sums = new Map<string, Sum>();
  readonly #max: number;
  #dropped = 0;

  constructor(opts: { readonly maxGenerations?: number } = {}) {
    this.#max = Math.max(1, opts.maxGenerations ?? DEFAULT_MAX_GENERATIONS);
  }

  /** Adds process windows (any order, any process). */
  add(windows: readonly GenerationHealth[]): void {
    for (const w of windows) {
      if (w.latencyBucketCounts.length !== LATENCY_BUCKETS || !(w.requests > 0)) {
        if (w.latencyBucketCounts.length !== LATENCY_BUCKETS) this.#dropped++;
        continue;
      }
      const key = w.generation?.digest ?? '';
      const sum = this.#sums.get(key);
      if (sum === undefined) {
        if (this.#sums.size >= this.#max) {
          const oldest = this.#sums.keys().next().value as string;
          this.#sums.delete(oldest);
          this.#dropped++;
        }
        this.#sums.set(key, { window: { ...w, latencyBucketCounts: [...w.latencyBucketCounts] } });
        continue;
      }
      const s = sum.window;
      s.fromUnixMs = Math.min(s.fromUnixMs, w.fromUnixMs);
      s.toUnixMs = Math.max(s.toUnixMs, w.toUnixMs);
      s.requests += w.requests;
      s.local5xx += w.local5xx;
      s.upstream5xx += w.upstream5xx;
      for (let i = 0; i < LATENCY_BUCKETS; i++) (s.latencyBucketCounts[i] as number) += w.latencyBucketCounts[i] as number;
    }
  }

  /** The summed windows since the previous call, one per generation; starts new sums. */
  health(): GenerationHealth[] {
    const out = [...this.#sums.values()].map((s) => s.window).sort((a, b) => a.fromUnixMs - b.fromUnixMs);
    this.#sums.clear();
    return out;
  }

  /** Process windows dropped (another layout, or beyond `maxGenerations`). */
  get dropped(): number {
    return this.#dropped;
  }
}
