/**
 * `random`: weighted random. A cumulative weight table over all backends is built once per
 * generation; a pick draws r ∈ [0, total) and binary-searches the first bound above r.
 * When some backends are ineligible: if every backend is a candidate and only a few are
 * excluded (a retry), a drawn excluded backend is redrawn (rejection sampling keeps the
 * distribution proportional to weight over the rest) up to REDRAWS times; otherwise, or then,
 * the eligible backends are walked twice (weight sum, then the draw), without allocating.
 */
import type { Balancer, PickContext, RandomSource, WeightedBackend } from './balancer.ts';

const REDRAWS = 8;

/** First index whose cumulative bound is > r. `cumulative` is strictly increasing. */
export function searchCumulative(cumulative: ArrayLike<number>, r: number, length = cumulative.length): number {
  let lo = 0;
  let hi = length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((cumulative[mid] as number) > r) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export function createRandom(backends: readonly WeightedBackend[], random: RandomSource = Math.random): Balancer {
  const n = backends.length;
  const cumulative = new Float64Array(n);
  const weights = Float64Array.from(backends, (b) => b.weight);
  let total = 0;
  for (let i = 0; i < n; i++) {
    total += (backends[i] as WeightedBackend).weight;
    cumulative[i] = total;
  }

  /** Two passes over the eligible backends (sum, then walk to r), no allocation. */
  function slowPick(candidates: readonly number[], exclude: ReadonlySet<number> | null): number | null {
    let sum = 0;
    let last = -1;
    for (let k = 0; k < candidates.length; k++) {
      const i = candidates[k] as number;
      if (exclude?.has(i)) continue;
      sum += weights[i] as number;
      last = i;
    }
    if (last === -1) return null;
    const r = random() * sum;
    let acc = 0;
    for (let k = 0; k < candidates.length; k++) {
      const i = candidates[k] as number;
      if (exclude?.has(i)) continue;
      acc += weights[i] as number;
      if (acc > r) return i;
    }
    return last; // r rounding up to sum
  }

  return {
    type: 'random',
    pick(candidates: readonly number[], ctx: PickContext): number | null {
      if (n === 0 || candidates.length === 0) return null;
      const exclude = ctx.exclude !== null && ctx.exclude.size > 0 ? ctx.exclude : null;
      if (candidates.length !== n) return slowPick(candidates, exclude);
      if (exclude === null) return searchCumulative(cumulative, random() * total, n);
      if (exclude.size < n) {
        for (let t = 0; t < REDRAWS; t++) {
          const i = searchCumulative(cumulative, random() * total, n);
          if (!exclude.has(i)) return i;
        }
      }
      return slowPick(candidates, exclude);
    },
  };
}
