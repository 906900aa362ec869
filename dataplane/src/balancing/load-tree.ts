/**
 * LoadTree: the backend with the least load, kept up to date as BackendStats change, so
 * least-connections and latency-aware pick in O(1) (O(k log n) with k tried backends) instead
 * of scanning every backend.
 *
 * A tournament tree over backend indexes: each node holds the better of its two children,
 * where a beats b when num_a · den_b < num_b · den_a, ties → lower index — exactly the
 * "first minimum in ascending index order" the linear scans compute, so picks are identical.
 * The key (num, den) comes from `keyOf`: least-connections uses (active, weight), latency-aware
 * (ewma + 10 × active, 1). Every stats change re-keys that backend and replays its path
 * toward the root (≤ ⌈log2 n⌉ comparisons; it stops where the winner is unchanged and is not
 * that backend).
 *
 * A tree is fed by its stats (backend-stats.ts) until a newer tree — the next generation's
 * balancer — watches one of them; then it is no longer `live` and its balancer scans. Trees pay
 * off only for larger pools: below TREE_MIN backends a scan is cheaper than the upkeep.
 */
import type { BackendStats, StatsWatcher } from '../runtime/backend-stats.ts';

export type LoadKey = (stats: BackendStats) => number;

/** Pools smaller than this are scanned: there a scan costs less than the tree's upkeep (two updates per request). */
export const TREE_MIN = 16;

export class LoadTree implements StatsWatcher {
  readonly #stats: readonly BackendStats[];
  readonly #key: LoadKey;
  /** First leaf: leaves are [#leaf, #leaf + n). */
  readonly #leaf: number;
  /** Winner backend per node (1 = root), -1 = none. */
  readonly #win: Int32Array;
  readonly #num: Float64Array;
  readonly #den: Float64Array;
  #live = true;

  constructor(stats: readonly BackendStats[], key: LoadKey, den: readonly number[]) {
    const n = stats.length;
    this.#stats = stats;
    this.#key = key;
    let leaf = 1;
    while (leaf < n) leaf <<= 1;
    this.#leaf = leaf;
    this.#win = new Int32Array(2 * leaf).fill(-1);
    this.#num = new Float64Array(n);
    this.#den = Float64Array.from(den);
    for (let i = 0; i < n; i++) {
      this.#num[i] = key(stats[i] as BackendStats);
      this.#win[leaf + i] = i;
    }
    for (let p = leaf - 1; p >= 1; p--) this.#win[p] = this.#better(this.#win[2 * p] as number, this.#win[2 * p + 1] as number);
    for (let i = 0; i < n; i++) (stats[i] as BackendStats).watch(this, i);
  }

  /** False once a newer tree took over one of the stats: the answers may be stale. */
  get live(): boolean {
    return this.#live;
  }

  displaced(): void {
    this.#live = false;
  }

  statsChanged(slot: number): void {
    const num = this.#num;
    const den = this.#den;
    const win = this.#win;
    num[slot] = this.#key(this.#stats[slot] as BackendStats);
    for (let p = (this.#leaf + slot) >> 1; p >= 1; p >>= 1) {
      // #better, inlined (this runs twice per request): both children exist below a live leaf's path
      // unless the right one is padding (-1).
      const a = win[2 * p] as number;
      const b = win[2 * p + 1] as number;
      let after = a;
      if (a < 0) after = b;
      else if (b >= 0) {
        const lhs = (num[a] as number) * (den[b] as number);
        const rhs = (num[b] as number) * (den[a] as number);
        after = lhs < rhs || (lhs === rhs && a < b) ? a : b;
      }
      const before = win[p] as number;
      win[p] = after;
      // Same winner, and not the backend that changed: nothing above can change.
      if (after === before && after !== slot) break;
    }
  }

  /** The least-loaded backend, or -1 when there is none. */
  best(): number {
    return this.#win[1] as number;
  }

  /** The least-loaded backend not in `exclude`, or -1. */
  bestExcluding(exclude: ReadonlySet<number>): number {
    return this.#descend(1, exclude);
  }

  #descend(node: number, exclude: ReadonlySet<number>): number {
    const w = this.#win[node] as number;
    if (w < 0 || !exclude.has(w)) return w;
    if (node >= this.#leaf) return -1;
    return this.#better(this.#descend(2 * node, exclude), this.#descend(2 * node + 1, exclude));
  }

  #better(a: number, b: number): number {
    if (a < 0) return b;
    if (b < 0) return a;
    const lhs = (this.#num[a] as number) * (this.#den[b] as number);
    const rhs = (this.#num[b] as number) * (this.#den[a] as number);
    return lhs < rhs || (lhs === rhs && a < b) ? a : b;
  }
}
