/**
 * Smooth weighted round-robin (round-robin.ts states the rule) without an O(n) pass per pick.
 *
 * Scores are kept lazily: current_i = base_i + t·w_i, where `t` counts the picks. A pick with
 * every backend eligible adds w_i to everyone — that is just t + 1. Backends of equal weight
 * keep their relative order under that, so each distinct weight has a max-heap of its backends
 * by (base desc, index asc); the pick is the best heap top (d distinct weights: d
 * candidates, same "highest score, ties → lowest index" rule), and only the picked backend's
 * base drops (by the total weight): one sift-down. O(d + log n).
 *
 * Any other pick (some backends not candidates, or excluded by a retry) is the reference rule
 * over the eligible ones: the k ineligible get base_i −= w_i so their score stays put as t
 * advances; every change lowers a base, so sifting the changed ones down keeps the heaps
 * valid. The best eligible backend is found on the heaps without visiting the others.
 *
 * Exact: weights are integers ≤ 10 000 (config schema) divided by their GCD, so every score
 * and base is an integer far below 2^53; `t` is folded into the bases every 2^20 picks to keep
 * it that way. The picks equal `smoothWeightedStep`'s in every state (property-tested).
 */

const FOLD_AT = 1 << 20;
/** Below this many backends, non-full picks scan the candidates instead of searching the heaps. */
const SMALL = 16;

export class SmoothWeightedEngine {
  readonly #n: number;
  readonly #weights: Float64Array;
  readonly #total: number;
  readonly #base: Float64Array;
  #t = 0;
  /** Backend indexes, grouped by weight; each group [start, end) is a max-heap. */
  readonly #heap: Int32Array;
  /** Position of each backend in #heap. */
  readonly #pos: Int32Array;
  /** Per backend: its group's start and end in #heap. */
  readonly #groupOf: Int32Array;
  readonly #groupStart: Int32Array;
  readonly #groupEnd: Int32Array;
  readonly #groupWeight: Float64Array;
  /** Scratch for #pickSome: 1 = ineligible on this pick; all 0 between picks. */
  readonly #skip: Uint8Array;
  /** Scratch: the ineligible backends of this pick. */
  readonly #out: Int32Array;
  /** Scratch: heap positions to visit in #bestEligible. */
  readonly #stack: Int32Array;
  #lastCandidates: readonly number[] | null = null;
  #lastMissing: Int32Array = new Int32Array(0);

  /** `scores`: current scores to start from (default all 0). */
  constructor(weights: readonly number[], scores: readonly number[] | null) {
    const n = weights.length;
    this.#n = n;
    this.#weights = Float64Array.from(weights);
    let total = 0;
    for (const w of weights) total += w;
    this.#total = total;
    this.#base = new Float64Array(n);
    for (let i = 0; i < n && scores !== null; i++) this.#base[i] = scores[i] ?? 0;

    const distinct = [...new Set(weights)];
    const d = distinct.length;
    this.#groupStart = new Int32Array(d);
    this.#groupEnd = new Int32Array(d);
    this.#groupWeight = Float64Array.from(distinct);
    this.#groupOf = new Int32Array(n);
    this.#heap = new Int32Array(n);
    this.#pos = new Int32Array(n);
    this.#skip = new Uint8Array(n);
    this.#out = new Int32Array(n);
    this.#stack = new Int32Array(2 * n + 2);
    let k = 0;
    for (let g = 0; g < d; g++) {
      this.#groupStart[g] = k;
      for (let i = 0; i < n; i++) {
        if (weights[i] !== distinct[g]) continue;
        this.#groupOf[i] = g;
        this.#heap[k] = i;
        this.#pos[i] = k;
        k++;
      }
      this.#groupEnd[g] = k;
      for (let p = k - 1; p >= (this.#groupStart[g] as number); p--) this.#siftDown(this.#heap[p] as number);
    }
  }

  /** Whether this engine was built for exactly these (GCD-reduced) weights. */
  hasWeights(weights: readonly number[]): boolean {
    if (weights.length !== this.#n) return false;
    for (let i = 0; i < this.#n; i++) if (weights[i] !== this.#weights[i]) return false;
    return true;
  }

  /** The current scores (materialized; diagnostics and re-weighting). */
  scores(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.#n; i++) out.push((this.#base[i] as number) + this.#t * (this.#weights[i] as number));
    return out;
  }

  pick(candidates: readonly number[], exclude: ReadonlySet<number> | null): number | null {
    const n = this.#n;
    if (n === 0) return null;
    if (candidates.length === n && (exclude === null || exclude.size === 0)) return this.#pickAll();
    const skip = exclude !== null && exclude.size > 0 ? exclude : null;
    return n < SMALL ? this.#pickScan(candidates, skip) : this.#pickSome(candidates, skip);
  }

  #pickAll(): number {
    const base = this.#base;
    const heap = this.#heap;
    const starts = this.#groupStart;
    const gw = this.#groupWeight;
    const t1 = this.#t + 1;
    let best = heap[starts[0] as number] as number;
    let bestScore = (base[best] as number) + t1 * (gw[0] as number);
    for (let g = 1; g < starts.length; g++) {
      const top = heap[starts[g] as number] as number;
      const score = (base[top] as number) + t1 * (gw[g] as number);
      if (score > bestScore || (score === bestScore && top < best)) {
        best = top;
        bestScore = score;
      }
    }
    this.#t = t1;
    base[best] = (base[best] as number) - this.#total;
    this.#siftDown(best);
    if (t1 >= FOLD_AT) this.#fold();
    return best;
  }

  /** The reference rule as a scan over the candidates (small pools: cheaper than the heaps). */
  #pickScan(candidates: readonly number[], exclude: ReadonlySet<number> | null): number | null {
    const base = this.#base;
    const weights = this.#weights;
    const excluded = this.#out;
    const t1 = this.#t + 1;
    let best = -1;
    let bestScore = 0;
    let total = 0;
    let x = 0;
    for (let k = 0; k < candidates.length; k++) {
      const i = candidates[k] as number;
      if (exclude?.has(i)) {
        excluded[x++] = i;
        continue;
      }
      const w = weights[i] as number;
      const score = (base[i] as number) + t1 * w;
      total += w;
      if (best === -1 || score > bestScore || (score === bestScore && i < best)) {
        best = i;
        bestScore = score;
      }
    }
    if (best === -1) return null;
    this.#t = t1;
    // Ineligible backends keep their score: undo the +w that t + 1 gave them.
    let next = 0; // walks the non-candidates between consecutive candidates
    for (let k = 0; k <= candidates.length; k++) {
      const stop = k < candidates.length ? (candidates[k] as number) : this.#n;
      for (let i = next; i < stop; i++) this.#undo(i);
      next = stop + 1;
    }
    for (let j = 0; j < x; j++) this.#undo(excluded[j] as number);
    base[best] = (base[best] as number) - total;
    this.#siftDown(best);
    if (t1 >= FOLD_AT) this.#fold();
    return best;
  }

  /** Backend i was not eligible on this pick: its base drops by its weight (score unchanged). */
  #undo(i: number): void {
    this.#base[i] = (this.#base[i] as number) - (this.#weights[i] as number);
    this.#siftDown(i);
  }

  /**
   * The reference rule over the eligible backends, on the lazy scores. Only the k ineligible
   * backends are visited: in each weight group the best eligible backend is on the heap's
   * frontier below its ineligible nodes (a heap child never beats its parent), and the
   * ineligible get their undo. O(d·k + k log n), plus O(n) once per new candidates array to
   * list who is missing (CandidateFilter hands out the same array while membership holds).
   */
  #pickSome(candidates: readonly number[], exclude: ReadonlySet<number> | null): number | null {
    const n = this.#n;
    const skip = this.#skip;
    const out = this.#out;
    const missing = this.#missingFrom(candidates);
    let k = 0;
    for (let m = 0; m < missing.length; m++) {
      const i = missing[m] as number;
      skip[i] = 1;
      out[k++] = i;
    }
    if (exclude !== null) {
      for (const x of exclude) {
        if (x < 0 || x >= n || skip[x] === 1 || !Number.isInteger(x)) continue;
        skip[x] = 1;
        out[k++] = x;
      }
    }
    const best = k === n ? -1 : this.#bestEligible();
    if (best === -1) {
      for (let j = 0; j < k; j++) skip[out[j] as number] = 0;
      return null;
    }
    const base = this.#base;
    const weights = this.#weights;
    let total = this.#total;
    this.#t += 1;
    for (let j = 0; j < k; j++) {
      // Ineligible: keep its score, undoing the +w that t + 1 gave it.
      const i = out[j] as number;
      skip[i] = 0;
      total -= weights[i] as number;
      base[i] = (base[i] as number) - (weights[i] as number);
      this.#siftDown(i);
    }
    base[best] = (base[best] as number) - total;
    this.#siftDown(best);
    if (this.#t >= FOLD_AT) this.#fold();
    return best;
  }

  /** Highest score at t + 1 among backends not in #skip (ties → lowest index); -1 if none. */
  #bestEligible(): number {
    const base = this.#base;
    const heap = this.#heap;
    const skip = this.#skip;
    const stack = this.#stack;
    const t1 = this.#t + 1;
    let best = -1;
    let bestScore = 0;
    for (let g = 0; g < this.#groupStart.length; g++) {
      const start = this.#groupStart[g] as number;
      const end = this.#groupEnd[g] as number;
      const w = this.#groupWeight[g] as number;
      if (start === end) continue;
      let top = 0;
      stack[top++] = start;
      while (top > 0) {
        const p = stack[--top] as number;
        const i = heap[p] as number;
        if (skip[i] === 0) {
          const score = (base[i] as number) + t1 * w;
          if (best === -1 || score > bestScore || (score === bestScore && i < best)) {
            best = i;
            bestScore = score;
          }
          continue; // its descendants never beat it
        }
        const left = start + 2 * (p - start) + 1;
        if (left < end) stack[top++] = left;
        if (left + 1 < end) stack[top++] = left + 1;
      }
    }
    return best;
  }

  /** The indexes not in `candidates` (ascending, distinct), cached for the last array seen. */
  #missingFrom(candidates: readonly number[]): Int32Array {
    if (candidates === this.#lastCandidates) return this.#lastMissing;
    const n = this.#n;
    const present = new Uint8Array(n);
    let count = n;
    for (let k = 0; k < candidates.length; k++) {
      const i = candidates[k] as number;
      if (i >= 0 && i < n && present[i] === 0) {
        present[i] = 1;
        count--;
      }
    }
    const missing = new Int32Array(count);
    let m = 0;
    for (let i = 0; i < n; i++) if (present[i] === 0) missing[m++] = i;
    this.#lastCandidates = candidates;
    this.#lastMissing = missing;
    return missing;
  }

  /** Folds t into the bases (order within each group is unchanged: same weight). */
  #fold(): void {
    const t = this.#t;
    for (let i = 0; i < this.#n; i++) this.#base[i] = (this.#base[i] as number) + t * (this.#weights[i] as number);
    this.#t = 0;
  }

  /** Restores the heap below backend `i`, whose base just went down. */
  #siftDown(i: number): void {
    const heap = this.#heap;
    const pos = this.#pos;
    const base = this.#base;
    const g = this.#groupOf[i] as number;
    const start = this.#groupStart[g] as number;
    const end = this.#groupEnd[g] as number;
    let p = pos[i] as number;
    const bi = base[i] as number;
    for (;;) {
      const left = start + 2 * (p - start) + 1;
      if (left >= end) break;
      let child = left;
      let c = heap[left] as number;
      const right = left + 1;
      if (right < end) {
        const r = heap[right] as number;
        const br = base[r] as number;
        const bc = base[c] as number;
        if (br > bc || (br === bc && r < c)) {
          child = right;
          c = r;
        }
      }
      const bc = base[c] as number;
      if (!(bc > bi || (bc === bi && c < i))) break;
      heap[p] = c;
      pos[c] = p;
      p = child;
    }
    heap[p] = i;
    pos[i] = p;
  }
}
