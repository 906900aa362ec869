/**
 * Token buckets of failed authentications, one per key (a source address, a token name, or the
 * global key), in a map of bounded size. A key starts with `burst` failures allowed and earns
 * back `perSecond` of them per second; while it has less than one left, further failures under
 * it are refused (429) without being counted against it again, so `retryAfterMs` never exceeds
 * the time to earn one back.
 *
 * Memory: at most `maxKeys` entries; touching a key moves it to the young end and the oldest
 * entry is dropped when the map is full. A caller rotating through more addresses than that
 * can evict its own throttled entries, which is why the guard also keeps a global key.
 */

export interface BucketPolicy {
  /** Failures allowed in a row from a full bucket. */
  readonly burst: number;
  /** Failures earned back per second. */
  readonly perSecond: number;
}

interface Bucket {
  tokens: number;
  atMs: number;
  /** True once a refusal was reported for the current throttled period. */
  refusing: boolean;
}

export class FailureLimiter {
  readonly #policy: BucketPolicy;
  readonly #maxKeys: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(policy: BucketPolicy, options: { maxKeys?: number; now?: () => number } = {}) {
    if (!(policy.burst >= 1) || !(policy.perSecond > 0)) throw new RangeError('burst must be >= 1 and perSecond > 0');
    this.#policy = policy;
    this.#maxKeys = Math.max(1, options.maxKeys ?? 10_000);
    this.#now = options.now ?? (() => performance.now());
  }

  /** Keys tracked now (for tests and the bound). */
  get size(): number {
    return this.#buckets.size;
  }

  /** 0 when a failure under `key` is still allowed, else ms until one is. */
  retryAfterMs(key: string): number {
    const bucket = this.#refill(key, false);
    if (bucket === null || bucket.tokens >= 1) return 0;
    return Math.ceil(((1 - bucket.tokens) / this.#policy.perSecond) * 1000);
  }

  /** Counts one failure under `key` (call only when retryAfterMs(key) is 0). */
  consume(key: string): void {
    const bucket = this.#refill(key, true);
    if (bucket === null) return;
    bucket.tokens = Math.max(0, bucket.tokens - 1);
    bucket.refusing = false;
  }

  /** Marks a refusal under `key`; true for the first one of a throttled period (log it once). */
  refused(key: string): boolean {
    const bucket = this.#buckets.get(key);
    if (!bucket || bucket.refusing) return false;
    bucket.refusing = true;
    return true;
  }

  /** The key's bucket brought up to now; created (full) when `create`, else null if absent. */
  #refill(key: string, create: boolean): Bucket | null {
    const now = this.#now();
    let bucket = this.#buckets.get(key);
    if (bucket) {
      this.#buckets.delete(key);
      bucket.tokens = Math.min(this.#policy.burst, bucket.tokens + ((now - bucket.atMs) / 1000) * this.#policy.perSecond);
      bucket.atMs = now;
    } else if (create) {
      bucket = { tokens: this.#policy.burst, atMs: now, refusing: false };
    } else {
      return null;
    }
    this.#buckets.set(key, bucket);
    while (this.#buckets.size > this.#maxKeys) {
      const oldest = this.#buckets.keys().next();
      if (oldest.done) break;
      this.#buckets.delete(oldest.value);
    }
    return bucket;
  }
}

/**
 * The limiter key of a source address: IPv4 as is (also when IPv4-mapped), IPv6 by its /64,
 * since one host commonly holds a whole /64 and could otherwise rotate addresses at will.
 */
export function addressKey(ip: string): string {
  const bare = ip.split('%')[0]?.toLowerCase() ?? '';
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(bare);
  if (mapped?.[1]) return mapped[1];
  if (!bare.includes(':')) return bare;
  const [head = '', tail] = bare.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
