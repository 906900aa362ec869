/**
 * `round-robin`: smooth weighted round-robin (nginx style). Each pick adds every eligible
 * backend's weight to its current score, picks the highest score (ties → lowest index) and
 * subtracts the eligible total from it. Equal weights rotate strictly; 5:1:1 gives
 * a a b a c a a. Weights are divided by their GCD first (same sequence, smaller numbers).
 * Ineligible backends (not candidates, or excluded) neither gain nor lose score on that pick.
 * `smoothWeightedStep` is that rule, literally (the reference the tests hold the engine to).
 *
 * The engine (smooth-weighted-engine.ts) gives the same picks without touching every backend:
 * O(distinct weights + log n) per pick while every backend is eligible, O(n) otherwise.
 */
import type { Balancer, PickContext, WeightedBackend } from './balancer.ts';
import { greatestCommonDivisor } from './balancer.ts';
import { SmoothWeightedEngine } from './smooth-weighted-engine.ts';

/**
 * Cursor state that survives generation swaps (held by LongLivedState per upstream and backend
 * list). Opaque: the engine is created by the first balancer that picks with it.
 */
export interface RoundRobinState {
  readonly size: number;
  engine: SmoothWeightedEngine | null;
}

export function createRoundRobinState(size: number): RoundRobinState {
  return { size, engine: null };
}

/**
 * The reference rule, one step over `current` (mutated, one score per backend index): the index
 * picked, or null when none is eligible.
 */
export function smoothWeightedStep(
  weights: readonly number[],
  current: number[],
  candidates: readonly number[],
  exclude: ReadonlySet<number> | null,
): number | null {
  let best = -1;
  let bestScore = 0;
  let total = 0;
  for (let k = 0; k < candidates.length; k++) {
    const i = candidates[k] as number;
    if (exclude?.has(i)) continue;
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
  let engine = state.engine;
  if (engine === null || !engine.hasWeights(weights)) {
    // First use, or (never with LongLivedState, whose key includes the weights) a state
    // shared by another weight list: carry the scores over.
    engine = new SmoothWeightedEngine(weights, engine?.scores() ?? null);
    state.engine = engine;
  }
  const ready = engine;
  return {
    type: 'round-robin',
    pick: (candidates: readonly number[], ctx: PickContext) => ready.pick(candidates, ctx.exclude),
  };
}
