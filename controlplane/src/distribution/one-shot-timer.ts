/**
 * OneShotTimer: at most one pending callback, for a session's push timeout and push retry.
 * Starting it again replaces the pending callback; the timer is unref'd so a waiting session
 * never keeps the process alive. Cleared before its callback runs, so the callback may start
 * it again.
 */
export class OneShotTimer {
  #timer: NodeJS.Timeout | null = null;

  /** Runs `fn` once after `delayMs` (negative = as soon as possible), replacing any pending one. */
  start(delayMs: number, fn: () => void): void {
    this.clear();
    this.#timer = setTimeout(
      () => {
        this.#timer = null;
        fn();
      },
      Math.max(0, delayMs),
    );
    this.#timer.unref();
  }

  /** Drops the pending callback, if any. */
  clear(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
