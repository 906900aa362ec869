/**
 * `least-connections`: the eligible backend with the fewest active requests per unit of
 * weight (ours: weighted, active ÷ weight, instead of forbidding weights); ties → lowest
 * index. Compared as active_a · weight_b < active_b · weight_a (no division, exact).
 */
import type { BackendStats } from '../runtime/backend-stats.ts';
import type { Balancer, PickContext, WeightedBackend } from './balancer.ts';

export function createLeastConnections(backends: readonly WeightedBackend[], stats: readonly BackendStats[]): Balancer {
  const weights = backends.map((b) => b.weight);
  return {
    type: 'least-connections',
    pick(candidates: readonly number[], ctx: PickContext): number | null {
      const exclude = ctx.exclude !== null && ctx.exclude.size > 0 ? ctx.exclude : null;
      let best = -1;
      let bestActive = 0;
      let bestWeight = 1;
      for (let k = 0; k < candidates.length; k++) {
        const i = candidates[k] as number;
        if (exclude?.has(i)) continue;
        const active = (stats[i] as BackendStats).active;
        const weight = weights[i] as number;
        const lhs = active * bestWeight;
        const rhs = bestActive * weight;
        if (best === -1 || lhs < rhs || (lhs === rhs && i < best)) {
          best = i;
          bestActive = active;
          bestWeight = weight;
        }
      }
      return best === -1 ? null : best;
    },
  };
}
