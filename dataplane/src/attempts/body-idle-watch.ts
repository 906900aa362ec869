/**
 * The client body idle bound (`performance.client_body_idle_timeout_ms`, Rust key): a request
 * whose body stops moving for longer than the bound is failed with `client_body_timeout`
 * (408 while no response head went out, else a reset), so a client trickling or stalling its
 * upload cannot hold a backend request open until the whole-request deadline.
 *
 * Idle means no request-body byte was handed to the transport. The transport pulls as fast
 * as the backend accepts, so in practice the gap is the client's; a backend that stops reading
 * counts too (Envoy's stream idle timeout makes the same choice).
 *
 * Cost: no timer per request. One process-wide interval runs while any body is watched and
 * sweeps the watched entries; a watched body costs one small entry object and a clock read
 * per chunk. Resolution: the sweep period (a tenth of the bound, 50–1000 ms), so a request is
 * cut between 1× and 1.1× the bound.
 */

export interface BodyWatch {
  /** Body bytes moved: the idle gap starts again. */
  touch(): void;
  /** Body finished, or the request no longer needs the bound. Idempotent. */
  stop(): void;
}

interface Entry extends BodyWatch {
  lastAt: number;
  readonly limitMs: number;
  readonly onIdle: () => void;
  stopped: boolean;
}

const MIN_SWEEP_MS = 50;
const MAX_SWEEP_MS = 1000;

export class BodyIdleWatch {
  readonly #entries = new Set<Entry>();
  readonly #now: () => number;
  #timer: NodeJS.Timeout | null = null;
  #sweepMs = MAX_SWEEP_MS;

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** Starts watching one body; `onIdle` runs at most once, after a gap over `limitMs`. */
  watch(limitMs: number, onIdle: () => void): BodyWatch {
    const entries = this.#entries;
    const now = this.#now;
    const entry: Entry = {
      lastAt: now(),
      limitMs,
      onIdle,
      stopped: false,
      touch() {
        entry.lastAt = now();
      },
      stop() {
        if (entry.stopped) return;
        entry.stopped = true;
        entries.delete(entry);
      },
    };
    entries.add(entry);
    this.#schedule(Math.min(MAX_SWEEP_MS, Math.max(MIN_SWEEP_MS, Math.floor(limitMs / 10))));
    return entry;
  }

  /** Entries being watched (for tests and gauges). */
  get size(): number {
    return this.#entries.size;
  }

  /** One sweep: fails every entry idle past its bound. Exposed for tests with a fake clock. */
  sweep(): void {
    const t = this.#now();
    for (const entry of this.#entries) {
      if (t - entry.lastAt <= entry.limitMs) continue;
      entry.stop();
      entry.onIdle();
    }
    if (this.#entries.size === 0 && this.#timer !== null) {
      clearInterval(this.#timer);
      this.#timer = null;
      this.#sweepMs = MAX_SWEEP_MS;
    }
  }

  #schedule(sweepMs: number): void {
    if (this.#timer !== null && sweepMs >= this.#sweepMs) return;
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#sweepMs = sweepMs;
    this.#timer = setInterval(() => this.sweep(), sweepMs);
    this.#timer.unref();
  }
}

/** The process's one watch, used by the attempt loop. */
export const bodyIdleWatch = new BodyIdleWatch();
