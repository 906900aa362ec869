/**
 * `latency-aware`: the eligible backend with the lowest score = EWMA latency (ms) + 10 ×
 * active requests; ties → lowest index. EWMA rules are in runtime/backend-stats.ts. A backend
 * never sampled is scored at the mean EWMA of the sampled eligible ones (0 when none is), so
 * a new backend is neither starved nor flooded. Weights are not used (as in the Rust Spooky).
 */
import type { BackendStats } from '../runtime/backend-stats.ts';
import type { Balancer, PickContext } from './balancer.ts';

/** Milliseconds of score one in-flight request costs. */
export const ACTIVE_PENALTY_MS = 10;

export function createLatencyAware(stats: readonly BackendStats[]): Balancer {
  return {
    type: 'latency-aware',
    pick(candidates: readonly number[], ctx: PickContext): number | null {
      const exclude = ctx.exclude !== null && ctx.exclude.size > 0 ? ctx.exclude : null;
      let sum = 0;
      let sampled = 0;
      for (let k = 0; k < candidates.length; k++) {
        const i = candidates[k] as number;
        if (exclude?.has(i)) continue;
        const s = stats[i] as BackendStats;
        if (s.sampled) {
          sum += s.ewmaMs;
          sampled++;
        }
      }
      const mean = sampled === 0 ? 0 : sum / sampled;
      let best = -1;
      let bestScore = 0;
      for (let k = 0; k < candidates.length; k++) {
        const i = candidates[k] as number;
        if (exclude?.has(i)) continue;
        const s = stats[i] as BackendStats;
        const score = (s.sampled ? s.ewmaMs : mean) + ACTIVE_PENALTY_MS * s.active;
        if (best === -1 || score < bestScore || (score === bestScore && i < best)) {
          best = i;
          bestScore = score;
        }
      }
      return best === -1 ? null : best;
    },
  };
}
