/**
 * A mergeable latency histogram in whole microseconds: exact below 128 µs, then 64 buckets per
 * power of two (a bucket spans at most 1/64 ≈ 1.6 % of its value). Generators record into one
 * each and send it to the orchestrator as a sparse list, which merges them per cell. Values
 * above 2^31 µs (~36 min) are clamped: every request is bounded far below that.
 */

const SUB = 64;
const SUB_BITS = 6;
const MAX_VALUE = 0x7fff_ffff;
const BUCKETS = (31 - SUB_BITS) * SUB + 2 * SUB;

/** Bucket index of a value in µs (0 … BUCKETS-1). */
export function bucketOf(us: number): number {
  const v = Math.min(MAX_VALUE, Math.max(0, Math.round(us)));
  if (v < 2 * SUB) return v;
  const shift = 31 - Math.clz32(v) - SUB_BITS;
  return shift * SUB + (v >> shift);
}

/** Largest value (µs) that falls into bucket `index`: a percentile never under-reports. */
export function bucketUpper(index: number): number {
  if (index < 2 * SUB) return index;
  const shift = Math.floor(index / SUB) - 1;
  const top = index - shift * SUB;
  return (top + 1) * 2 ** shift - 1;
}

/** Serialised form: total count, exact min / max, sparse `[bucket, count]` pairs. */
export interface HistogramJson {
  readonly count: number;
  readonly minUs: number;
  readonly maxUs: number;
  readonly buckets: ReadonlyArray<readonly [number, number]>;
}

export class LatencyHistogram {
  readonly #counts = new Float64Array(BUCKETS);
  #count = 0;
  #min = Number.POSITIVE_INFINITY;
  #max = 0;

  get count(): number {
    return this.#count;
  }

  /** Records one latency in milliseconds (fractional). */
  recordMs(ms: number): void {
    const us = Math.min(MAX_VALUE, Math.max(0, Math.round(ms * 1000)));
    this.#counts[bucketOf(us)]! += 1;
    this.#count++;
    if (us < this.#min) this.#min = us;
    if (us > this.#max) this.#max = us;
  }

  /** Adds every sample of `other` (serialised or live) to this one. */
  merge(other: HistogramJson): void {
    if (other.count === 0) return;
    for (const [index, n] of other.buckets) this.#counts[index]! += n;
    this.#count += other.count;
    this.#min = Math.min(this.#min, other.minUs);
    this.#max = Math.max(this.#max, other.maxUs);
  }

  /**
   * The q-quantile (0 < q ≤ 1) in ms: the upper edge of the bucket holding the sample of rank
   * ⌈q·count⌉, capped by the exact maximum. NaN when empty.
   */
  quantileMs(q: number): number {
    if (this.#count === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(q * this.#count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) return Math.min(bucketUpper(i), this.#max) / 1000;
    }
    return this.#max / 1000;
  }

  /** Exact maximum in ms (NaN when empty). */
  maxMs(): number {
    return this.#count === 0 ? Number.NaN : this.#max / 1000;
  }

  toJSON(): HistogramJson {
    const buckets: Array<readonly [number, number]> = [];
    for (let i = 0; i < BUCKETS; i++) {
      const n = this.#counts[i]!;
      if (n > 0) buckets.push([i, n]);
    }
    return { count: this.#count, minUs: this.#count === 0 ? 0 : this.#min, maxUs: this.#max, buckets };
  }
}
