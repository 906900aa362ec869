/**
 * Bounds fire-and-forget mirrors: at most `max` in flight per mirror upstream name, process
 * wide (shared by every generation, so a swap never doubles the bound). try-acquire only,
 * never queues: a mirror that finds no slot is skipped and counted.
 */

export const DEFAULT_MAX_MIRRORS_PER_UPSTREAM = 64;

export class MirrorLimiter {
  readonly #max: number;
  readonly #inflight = new Map<string, number>();

  constructor(max: number = DEFAULT_MAX_MIRRORS_PER_UPSTREAM) {
    this.#max = max;
  }

  /** True (and a slot is taken) when `upstream` has fewer than `max` mirrors in flight. */
  tryAcquire(upstream: string): boolean {
    const n = this.#inflight.get(upstream) ?? 0;
    if (n >= this.#max) return false;
    this.#inflight.set(upstream, n + 1);
    return true;
  }

  /** Returns a slot taken by tryAcquire; exactly once per successful acquire. */
  release(upstream: string): void {
    const n = (this.#inflight.get(upstream) ?? 0) - 1;
    if (n <= 0) this.#inflight.delete(upstream);
    else this.#inflight.set(upstream, n);
  }

  inflight(upstream: string): number {
    return this.#inflight.get(upstream) ?? 0;
  }

  hasFree(upstream: string): boolean {
    return this.inflight(upstream) < this.#max;
  }
}
