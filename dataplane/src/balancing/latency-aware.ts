/**
 * `latency-aware`: the eligible backend with the lowest score = EWMA latency (ms) + 10 ×
 * active requests; ties → lowest index. EWMA rules are in runtime/backend-stats.ts. A backend
 * never sampled is scored at the mean EWMA of the sampled eligible ones (0 when none is), so
 * a new backend is neither starved nor flooded. Weights are not used (as in the Rust Spooky).
 *
 * Once every backend has been sampled (a stats object never goes back to unsampled) the mean
 * no longer matters, and with at least TREE_MIN backends, while every backend is a candidate,
 * the answer comes from a LoadTree (load-tree.ts) keyed by the same score: O(1), O(k log n)
 * with k backends already tried. Otherwise the two-pass scan below, O(n). Both give the same
 * index.
 */
import type { BackendStats } from '../runtime/backend-stats.ts';
import type { Balancer, PickContext } from './balancer.ts';
import { LoadTree, TREE_MIN } from './load-tree.ts';

/** Milliseconds of score one in-flight request costs. */
export const ACTIVE_PENALTY_MS = 10;

/** A sampled backend's score (the same expression the scan uses). */
const scoreOf = (s: BackendStats): number => s.ewmaMs + ACTIVE_PENALTY_MS * s.active;

/** The linear rule (reference and fallback path). */
export function latencyAwareScan(stats: readonly BackendStats[], candidates: readonly number[], exclude: ReadonlySet<number> | null): number | null {
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
}

export function createLatencyAware(stats: readonly BackendStats[]): Balancer {
  const n = stats.length;
  let tree: LoadTree | null = null;
  /** Backends 0..checked-1 are known sampled (sampled never reverts). */
  let checked = 0;
  const ones = new Array<number>(n).fill(1);
  return {
    type: 'latency-aware',
    pick(candidates: readonly number[], ctx: PickContext): number | null {
      const exclude = ctx.exclude !== null && ctx.exclude.size > 0 ? ctx.exclude : null;
      if (candidates.length !== n || n < TREE_MIN || tree?.live === false) return latencyAwareScan(stats, candidates, exclude);
      if (tree === null) {
        while (checked < n && (stats[checked] as BackendStats).sampled) checked++;
        if (checked < n) return latencyAwareScan(stats, candidates, exclude);
        tree = new LoadTree(stats, scoreOf, ones);
      }
      const best = exclude === null ? tree.best() : tree.bestExcluding(exclude);
      return best < 0 ? null : best;
    },
  };
}
