/**
 * Time as the health module sees it: a clock and one-shot timers. The real one uses
 * performance.now() and unref'd setTimeout (health timers never keep the process alive);
 * tests inject a manual one (see health/testing/manual-scheduler.ts).
 */

export interface TimerHandle {
  cancel(): void;
}

export interface Scheduler {
  /** Monotonic milliseconds. */
  now(): number;
  /** Runs `fn` once after `delayMs`; cancelling after it ran is a no-op. */
  setTimer(fn: () => void, delayMs: number): TimerHandle;
}

export const realScheduler: Scheduler = {
  now: () => performance.now(),
  setTimer(fn, delayMs) {
    const timer = setTimeout(fn, Math.max(0, delayMs));
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
};
