/**
 * Counts requests between accept and the handler's settlement, so a listener (or the whole
 * process) can let in-flight requests finish before closing sockets. The handler's contract
 * is to never reject; if it does anyway, that is reported to the crash barrier (never an
 * unhandled rejection) and the request still counts as finished.
 */
import { reportInternalError } from '../barrier/internal-error.ts';

export class InflightTracker {
  #count = 0;
  #waiters: Array<() => void> = [];

  get count(): number {
    return this.#count;
  }

  /** Runs `work` as one in-flight request. */
  track(work: Promise<void>): void {
    this.#count++;
    work.then(this.#done, this.#failed);
  }

  /** Resolves when nothing is in flight, or after `timeoutMs`, whichever is first. */
  idle(timeoutMs: number): Promise<void> {
    if (this.#count === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(finish, timeoutMs);
      timer.unref();
      const waiters = this.#waiters;
      function finish(): void {
        clearTimeout(timer);
        const i = waiters.indexOf(finish);
        if (i >= 0) waiters.splice(i, 1);
        resolve();
      }
      waiters.push(finish);
    });
  }

  readonly #failed = (err: unknown): void => {
    reportInternalError('exchange_handler', err);
    this.#done();
  };

  readonly #done = (): void => {
    this.#count--;
    if (this.#count === 0) {
      for (const w of this.#waiters.slice()) w();
    }
  };
}
