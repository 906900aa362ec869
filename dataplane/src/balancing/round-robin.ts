/**
 * `round-robin`: smooth weighted round-robin (nginx style). Each pick adds every eligible
 * backend's weight to its current score, picks the highest score (ties → lowest index) and
 * subtracts the eligible total from it. Equal weights rotate strictly; 5:1:1 gives
 * a a b a c a a. Weights are divided by their GCD first (same sequence, smaller numbers).
 * Ineligible backends (not candidates, or excluded) neither gain nor lose score on that pick.
 */
import type { Balancer, PickContext, WeightedBackend } from './balancer.ts';
import { greatestCommonDivisor } from './balancer.ts';

/** Cursor state that survives generation swaps (held by LongLivedState per upstream). */
export interface RoundRobinState {
  /** Current scores, one per backend index. */
  readonly current: number[];
}

export function createRoundRobinState(size: number): RoundRobinState {
  return { current: new Array<number>(size).fill(0) };
}

/** Pure step over `state` (mutated): the index picked, or null when none is eligible. */
export function smoothWeightedPick(
  weights: readonly number[],
  state: RoundRobinState,
  candidates: readonly number[],
  exclude: ReadonlySet<number> | null,
): number | null {
  let best = -1;
  let bestScore = 0;
  let total = 0;
  const current = state.current;
  const skip = exclude !== null && exclude.size > 0 ? exclude : null;
  for (let k = 0; k < candidates.length; k++) {
    const i = candidates[k] as number;
    if (skip?.has(i)) continue;
    const w = weights[i] as number;
    const score = (current[i] ?? 0) + w;
    current[i] = score;
    total += w;
    if (best === -1 || score > bestScore || (score === bestScore && i < best)) {
      best = i;
      bestScore = score;
    }
  }
  if (best === -1) return null;
  current[best] = bestScore - total;
  return best;
}

export function createRoundRobin(backends: readonly WeightedBackend[], state: RoundRobinState): Balancer {
  const gcd = greatestCommonDivisor(backends.map((b) => b.weight));
  const weights = backends.map((b) => b.weight / gcd);
  return {
    type: 'round-robin',
    pick: (candidates: readonly number[], ctx: PickContext) => smoothWeightedPick(weights, state, candidates, ctx.exclude),
  };
}
