/**
 * Latency histograms as data planes report them per generation (docs/rollout.md, "Health
 * windows"). Percentiles of several nodes cannot be averaged; bucket counts can be summed, so the
 * gate merges histograms and reads the p99 of the sum. Pure.
 */

/** Cumulative-free bucket counts: `counts[i]` requests took ≤ `boundsMs[i]` (and > the bound before). */
export interface LatencyHistogram {
  /** Ascending upper bounds in ms; the same layout on every node (a protocol constant). */
  readonly boundsMs: readonly number[];
  /** `boundsMs.length + 1` counts; the last is everything above the last bound. */
  readonly counts: readonly number[];
}

/** True when `h` is well formed: ascending finite bounds, one count more than bounds, counts whole and ≥ 0. */
export function isWellFormed(h: LatencyHistogram): boolean {
  if (h.counts.length !== h.boundsMs.length + 1) return false;
  for (let i = 0; i < h.boundsMs.length; i++) {
    const b = h.boundsMs[i]!;
    if (!Number.isFinite(b) || b < 0 || (i > 0 && b <= h.boundsMs[i - 1]!)) return false;
  }
  return h.counts.every((c) => Number.isInteger(c) && c >= 0);
}

/**
 * The bucket-wise sum of `histograms` that share the layout of the first well-formed one;
 * `dropped` counts the others (malformed or another layout), which the caller reports. Null when
 * none is usable.
 */
export function mergeHistograms(histograms: readonly LatencyHistogram[]): { merged: LatencyHistogram | null; dropped: number } {
  let merged: { boundsMs: readonly number[]; counts: number[] } | null = null;
  let dropped = 0;
  for (const h of histograms) {
    if (!isWellFormed(h)) {
      dropped++;
      continue;
    }
    if (merged === null) {
      merged = { boundsMs: h.boundsMs, counts: [...h.counts] };
      continue;
    }
    const layout = merged.boundsMs;
    if (h.boundsMs.length !== layout.length || h.boundsMs.some((b, i) => b !== layout[i])) {
      dropped++;
      continue;
    }
    for (let i = 0; i < h.counts.length; i++) merged.counts[i]! += h.counts[i]!;
  }
  return { merged, dropped };
}

/**
 * The q-quantile (0 < q < 1) in ms, interpolated linearly inside its bucket (the first bucket
 * starts at 0). A quantile in the overflow bucket is the last bound: a lower estimate, so layouts
 * must reach beyond any threshold they are checked against. Null for an empty histogram.
 */
export function quantileMs(h: LatencyHistogram, q: number): number | null {
  const total = h.counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < h.counts.length; i++) {
    const count = h.counts[i]!;
    if (count > 0 && below + count >= rank) {
      if (i >= h.boundsMs.length) return h.boundsMs[h.boundsMs.length - 1] ?? 0;
      const lower = i === 0 ? 0 : h.boundsMs[i - 1]!;
      const upper = h.boundsMs[i]!;
      return lower + ((upper - lower) * (rank - below)) / count;
    }
    below += count;
  }
  return h.boundsMs[h.boundsMs.length - 1] ?? 0;
}
