/**
 * A Scheduler for tests: time moves only when the test calls `advance`, which runs due
 * timers in time order (a timer set by a running timer runs too when it falls due).
 */
import type { Scheduler, TimerHandle } from '../scheduler.ts';

interface Pending {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

export class ManualScheduler implements Scheduler {
  #now = 0;
  #seq = 0;
  #pending: Pending[] = [];

  now(): number {
    return this.#now;
  }

  setTimer(fn: () => void, delayMs: number): TimerHandle {
    const entry: Pending = { at: this.#now + Math.max(0, delayMs), seq: this.#seq++, fn, cancelled: false };
    this.#pending.push(entry);
    return {
      cancel: () => {
        entry.cancelled = true;
      },
    };
  }

  /** Timers neither run nor cancelled. */
  pendingCount(): number {
    return this.#pending.filter((p) => !p.cancelled).length;
  }

  /** Delays (from now) of the live timers, ascending. */
  pendingDelays(): number[] {
    return this.#pending
      .filter((p) => !p.cancelled)
      .map((p) => p.at - this.#now)
      .sort((a, b) => a - b);
  }

  /**
   * Moves time forward by `ms`, running due timers; after each timer, awaits `settle` so the
   * async work it started (a fake probe) completes before the next one runs.
   */
  async advance(ms: number, settle: () => Promise<void> = flush): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      this.#pending = this.#pending.filter((p) => !p.cancelled);
      this.#pending.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.#pending[0];
      if (next === undefined || next.at > target) break;
      this.#pending.shift();
      this.#now = next.at;
      next.fn();
      await settle();
    }
    this.#now = target;
  }
}

/** Lets already-resolved promise chains run (not a sleep: no time passes). */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
