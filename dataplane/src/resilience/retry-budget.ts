/**
 * Retry budget: retries are allowed while `retries < floor(primaries × ratio/100) + 1` over a
 * sliding window, globally and per upstream (both must allow). Hedges spend it like retries.
 *
 * Window: 10 s in ten 1-s buckets. Linkerd's budgets use a 10 s TTL for the same reason: long
 * enough that a modest ratio still allows retries at low traffic (the `+ 1`), short enough that
 * a failure storm drains it within seconds and a past quiet period cannot bank retries for the
 * next storm. (Envoy's default budget counts concurrently active retries instead; a window
 * needs no release step, which keeps the attempt loop's bookkeeping to one call per try.)
 *
 * Cost per request: one `recordPrimary` and, on failure, one `canRetry`/`recordRetry`: O(1)
 * (running sums; a slot is cleared when the window moves past it), no allocation. Clock injected (milliseconds, monotonic).
 */

const BUCKETS = 10;
const BUCKET_MS = 1000;

/** One scope's counters (the global one, or one upstream's): ten 1-s buckets and running sums. */
export class RetryWindow {
  readonly #primaries = new Float64Array(BUCKETS);
  readonly #retries = new Float64Array(BUCKETS);
  #sumPrimaries = 0;
  #sumRetries = 0;
  /** Absolute number (now ÷ 1 s) of the newest bucket; older slots are cleared as time moves on. */
  #bucket = Number.NEGATIVE_INFINITY;
  ratioPercent: number;

  constructor(ratioPercent: number) {
    this.ratioPercent = ratioPercent;
  }

  recordPrimary(now: number): void {
    const i = this.#advance(now);
    this.#primaries[i]! += 1;
    this.#sumPrimaries += 1;
  }

  recordRetry(now: number): void {
    const i = this.#advance(now);
    this.#retries[i]! += 1;
    this.#sumRetries += 1;
  }

  /** `retries < floor(primaries × ratio/100) + 1` over the last 10 s. */
  allows(now: number): boolean {
    this.#advance(now);
    return this.#sumRetries < Math.floor((this.#sumPrimaries * this.ratioPercent) / 100) + 1;
  }

  /** Moves the window to `now`, clearing the slots it leaves behind; returns the current slot. */
  #advance(now: number): number {
    const bucket = Math.floor(now / BUCKET_MS);
    if (bucket > this.#bucket) {
      const from = Math.max(this.#bucket + 1, bucket - BUCKETS + 1);
      for (let b = from; b <= bucket; b++) {
        const i = ((b % BUCKETS) + BUCKETS) % BUCKETS;
        this.#sumPrimaries -= this.#primaries[i]!;
        this.#sumRetries -= this.#retries[i]!;
        this.#primaries[i] = 0;
        this.#retries[i] = 0;
      }
      this.#bucket = bucket;
    }
    // A clock that goes backwards counts into the newest bucket.
    return ((this.#bucket % BUCKETS) + BUCKETS) % BUCKETS;
  }
}

/**
 * The global window and one per upstream. The attempt loop resolves an upstream's window once
 * (`forUpstream`, at compile time) and passes it to each call. `enabled: false` allows every
 * retry (other limits, such as max_attempts, still apply).
 */
export class RetryBudgets {
  readonly global: RetryWindow;
  readonly #upstreams = new Map<string, RetryWindow>();
  enabled: boolean;

  constructor(options: { readonly enabled: boolean; readonly ratioPercent: number }) {
    this.enabled = options.enabled;
    this.global = new RetryWindow(options.ratioPercent);
  }

  /** The window of `upstream`, created on first use; its ratio is updated to `ratioPercent`. */
  forUpstream(upstream: string, ratioPercent: number): RetryWindow {
    let w = this.#upstreams.get(upstream);
    if (w === undefined) {
      w = new RetryWindow(ratioPercent);
      this.#upstreams.set(upstream, w);
    }
    w.ratioPercent = ratioPercent;
    return w;
  }

  /** A primary (first) attempt of a request to `upstream`. */
  recordPrimary(upstream: RetryWindow, now: number): void {
    this.global.recordPrimary(now);
    upstream.recordPrimary(now);
  }

  canRetry(upstream: RetryWindow, now: number): boolean {
    return !this.enabled || (this.global.allows(now) && upstream.allows(now));
  }

  /** A retry or a hedge was sent. */
  recordRetry(upstream: RetryWindow, now: number): void {
    this.global.recordRetry(now);
    upstream.recordRetry(now);
  }

  /** Keeps only the windows of upstreams still named (after a generation swap). */
  retain(upstreams: ReadonlySet<string>): void {
    for (const name of this.#upstreams.keys()) if (!upstreams.has(name)) this.#upstreams.delete(name);
  }

  get size(): number {
    return this.#upstreams.size;
  }
}
