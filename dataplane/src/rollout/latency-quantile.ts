/**
 * The q-quantile of a latency histogram in the layout of LATENCY_BUCKET_BOUNDS_MS
 * (@spooky/proto), read exactly as the control plane's gate reads it (linear interpolation
 * inside the bucket, the first bucket starting at 0, the overflow bucket reading as the last
 * bound), so the node's local check and the fleet gate agree on the same numbers. Pure.
 */
import { LATENCY_BUCKET_BOUNDS_MS } from '@spooky/proto';

/** The q-quantile (0 < q < 1) in ms of `counts` (bounds.length + 1 counts); null when empty. */
export function latencyQuantileMs(counts: readonly number[], q: number, bounds: readonly number[] = LATENCY_BUCKET_BOUNDS_MS): number | null {
  let total = 0;
  for (const c of counts) total += c;
  if (total === 0) return null;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < counts.length; i++) {
    const count = counts[i] as number;
    if (count > 0 && below + count >= rank) {
      if (i >= bounds.length) return bounds[bounds.length - 1] ?? 0;
      const lower = i === 0 ? 0 : (bounds[i - 1] as number);
      const upper = bounds[i] as number;
      return lower + ((upper - lower) * (rank - below)) / count;
    }
    below += count;
  }
  return bounds[bounds.length - 1] ?? 0;
}
