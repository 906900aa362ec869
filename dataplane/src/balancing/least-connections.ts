/**
 * `least-connections`: the eligible backend with the fewest active requests per unit of
 * weight (ours: weighted, active ÷ weight, instead of forbidding weights); ties → lowest
 * index. Compared as active_a · weight_b < active_b · weight_a (no division, exact).
 *
 * With at least TREE_MIN backends, while every backend is a candidate, the answer comes from
 * a LoadTree (load-tree.ts) kept up to date by the stats themselves: O(1), O(k log n) with k
 * backends already tried. Otherwise — small pools, a degraded candidate list (some backend
 * unhealthy), a tree a newer generation took over — a scan, O(n). Both give the same index.
 */
import type { BackendStats } from '../runtime/backend-stats.ts';
import type { Balancer, PickContext, WeightedBackend } from './balancer.ts';
import { LoadTree, TREE_MIN } from './load-tree.ts';

const activeOf = (s: BackendStats): number => s.active;

/** The linear rule (reference and degraded path). */
export function leastConnectionsScan(
  weights: ArrayLike<number>,
  stats: readonly BackendStats[],
  candidates: readonly number[],
  exclude: ReadonlySet<number> | null,
): number | null {
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
}

export function createLeastConnections(backends: readonly WeightedBackend[], stats: readonly BackendStats[]): Balancer {
  const n = backends.length;
  const weights = Float64Array.from(backends, (b) => b.weight);
  let tree: LoadTree | null = null;
  return {
    type: 'least-connections',
    pick(candidates: readonly number[], ctx: PickContext): number | null {
      const exclude = ctx.exclude !== null && ctx.exclude.size > 0 ? ctx.exclude : null;
      if (candidates.length !== n || n < TREE_MIN || tree?.live === false) return leastConnectionsScan(weights, stats, candidates, exclude);
      tree ??= new LoadTree(stats, activeOf, backends.map((b) => b.weight));
      const best = exclude === null ? tree.best() : tree.bestExcluding(exclude);
      return best < 0 ? null : best;
    },
  };
}
