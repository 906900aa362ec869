/**
 * Pure token bucket: `take(now)` spends one token if there is one. The bucket starts full
 * (`burst` tokens) and refills at `perSec` tokens per second, never above `burst`. Time is
 * passed in (milliseconds, monotonic) so the arithmetic is table-testable; a clock that goes
 * backwards refills nothing.
 */
export class TokenBucket {
  #perSec: number;
  #burst: number;
  #tokens: number;
  #last: number;

  constructor(perSec: number, burst: number, now: number) {
    this.#perSec = perSec;
    this.#burst = burst;
    this.#tokens = burst;
    this.#last = now;
  }

  /** True (one token spent) or false (empty: the caller refuses). */
  take(now: number): boolean {
    this.#refill(now);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /**
   * New rate and size, for a new generation. Tokens already saved are kept up to the new
   * burst (a smaller bucket does not grant a fresh burst; a larger one does not either).
   */
  reconfigure(perSec: number, burst: number, now: number): void {
    this.#refill(now);
    this.#perSec = perSec;
    this.#burst = burst;
    this.#tokens = Math.min(this.#tokens, burst);
  }

  /** Whole tokens available at `now` (for tests and metrics). */
  available(now: number): number {
    this.#refill(now);
    return Math.floor(this.#tokens);
  }

  #refill(now: number): void {
    const elapsed = now - this.#last;
    if (elapsed <= 0) return;
    this.#last = now;
    this.#tokens = Math.min(this.#burst, this.#tokens + (elapsed * this.#perSec) / 1000);
  }
}
