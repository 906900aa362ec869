/**
 * Circuit breaker per backend: Closed →(failure_threshold consecutive failures)→ Open for
 * open_ms → Half-Open, where at most half_open_max_probes attempts run at once → Closed on a
 * probe's success, Open again (for another open_ms) on a probe's failure.
 *
 * Protocol for the attempt loop: `available(now)` filters candidates before the balancer picks
 * (ours: open backends are skipped, not failed over); `acquire(now)` after the pick returns a
 * permit (PERMIT_NORMAL / PERMIT_PROBE) or PERMIT_NONE; the attempt, when it ends, calls
 * `release(permit, verdict, now)` exactly once. `breakerVerdict` turns an attempt's outcome into
 * the verdict (5xx count only with `count_5xx`). A disabled breaker is always closed.
 * Cost per request: a few field reads and writes, no allocation. Clock injected (ms).
 */
import type { CircuitBreakerPolicy } from '@spooky/config';

export type BreakerState = 'closed' | 'open' | 'half_open';

/** `spooky_breaker_state` gauge values. */
export const BREAKER_STATE_VALUE: Readonly<Record<BreakerState, number>> = { closed: 0, open: 1, half_open: 2 };

export const PERMIT_NONE = 0;
export const PERMIT_NORMAL = 1;
export const PERMIT_PROBE = 2;
export type BreakerPermit = typeof PERMIT_NONE | typeof PERMIT_NORMAL | typeof PERMIT_PROBE;

/** success closes a half-open breaker; failure counts; neutral (4xx, client abort, 5xx without count_5xx) only returns the permit. */
export type BreakerVerdict = 'success' | 'failure' | 'neutral';

export function breakerVerdict(outcome: { readonly failure: string | null; readonly status: number | null; readonly clientAborted: boolean }, count5xx: boolean): BreakerVerdict {
  if (outcome.clientAborted) return 'neutral';
  if (outcome.failure !== null) return 'failure';
  if (outcome.status !== null && outcome.status >= 500) return count5xx ? 'failure' : 'neutral';
  return 'success';
}

export class CircuitBreaker {
  #policy: CircuitBreakerPolicy;
  #state: BreakerState = 'closed';
  #failures = 0;
  #openedAt = 0;
  #probes = 0;

  constructor(policy: CircuitBreakerPolicy) {
    this.#policy = policy;
  }

  /** A new generation's policy; the state is kept (an open breaker stays open). */
  reconfigure(policy: CircuitBreakerPolicy): void {
    this.#policy = policy;
    if (!policy.enabled) {
      this.#state = 'closed';
      this.#failures = 0;
      this.#probes = 0;
    }
  }

  /** The state at `now` (an open breaker whose open_ms passed reads as half-open). */
  state(now: number): BreakerState {
    if (this.#state === 'open' && now - this.#openedAt >= this.#policy.open_ms) {
      this.#state = 'half_open';
      this.#probes = 0;
    }
    return this.#state;
  }

  /** May the balancer pick this backend? (No permit is taken.) */
  available(now: number): boolean {
    const s = this.state(now);
    return s === 'closed' || (s === 'half_open' && this.#probes < this.#policy.half_open_max_probes);
  }

  acquire(now: number): BreakerPermit {
    const s = this.state(now);
    if (s === 'closed') return PERMIT_NORMAL;
    if (s === 'half_open' && this.#probes < this.#policy.half_open_max_probes) {
      this.#probes++;
      return PERMIT_PROBE;
    }
    return PERMIT_NONE;
  }

  release(permit: BreakerPermit, verdict: BreakerVerdict, now: number): void {
    if (permit === PERMIT_NONE || !this.#policy.enabled) return;
    if (permit === PERMIT_PROBE) {
      this.#probes = Math.max(0, this.#probes - 1);
      if (this.#state !== 'half_open') return; // a verdict from before a reconfigure / reopen
      if (verdict === 'success') this.#close();
      else if (verdict === 'failure') this.#open(now);
      return;
    }
    // A normal permit: its verdict counts only while closed (ones finishing after the breaker opened are late).
    if (this.#state !== 'closed') return;
    if (verdict === 'success') this.#failures = 0;
    else if (verdict === 'failure' && ++this.#failures >= this.#policy.failure_threshold) this.#open(now);
  }

  #open(now: number): void {
    this.#state = 'open';
    this.#openedAt = now;
    this.#failures = 0;
  }

  #close(): void {
    this.#state = 'closed';
    this.#failures = 0;
  }
}

/**
 * The breakers of every backend the served generation names, keyed by upstream + address
 * (the same key as backend stats and health), so state survives generation swaps.
 * LongLivedState owns one; compile resolves each backend's breaker once (`breaker`).
 */
export class BreakerRegistry {
  readonly #breakers = new Map<string, CircuitBreaker>();

  /** The breaker of `key` (backendStatsKey(upstream, address)), created or reconfigured to `policy`. */
  breaker(key: string, policy: CircuitBreakerPolicy): CircuitBreaker {
    let b = this.#breakers.get(key);
    if (b === undefined) {
      b = new CircuitBreaker(policy);
      this.#breakers.set(key, b);
    } else {
      b.reconfigure(policy);
    }
    return b;
  }

  /** Drops the breakers of backends no longer named. */
  retain(named: ReadonlySet<string>): void {
    for (const key of this.#breakers.keys()) if (!named.has(key)) this.#breakers.delete(key);
  }

  /** For the breaker-state gauge: every entry with its state at `now`. */
  *states(now: number): IterableIterator<[string, BreakerState]> {
    for (const [key, b] of this.#breakers) yield [key, b.state(now)];
  }

  get size(): number {
    return this.#breakers.size;
  }

  clear(): void {
    this.#breakers.clear();
  }
}
