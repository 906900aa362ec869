/**
 * ActiveChecker: the probe loop of one backend with a `health_check`. Started by the
 * HealthMonitor when a served generation names the backend; stopped when no generation does,
 * or restarted when its health_check settings change (the health state itself lives in the
 * monitor and is kept).
 *
 * Schedule (pure, `probeDelay` / `startDelay`): the first probe after a random jitter in
 * [0, interval) so backends are not probed in lockstep; then every `interval`, stretched to
 * interval × 2^min(failures, 2) while probes keep failing. One probe in flight at a time;
 * every timer is the Scheduler's (unref'd in production).
 */
import type { HealthCheck } from '@spooky/config';
import { classifyProbe, type HealthVerdict } from './health-state.ts';
import type { Prober } from './prober.ts';
import type { Scheduler, TimerHandle } from './scheduler.ts';

/** Delay before the next probe after `failures` consecutive failed probes. */
export function probeDelay(intervalMs: number, failures: number): number {
  return intervalMs * 2 ** Math.min(Math.max(failures, 0), 2);
}

/** Delay before the first probe; `random` is uniform in [0, 1). */
export function startDelay(intervalMs: number, random: () => number): number {
  return Math.floor(random() * intervalMs);
}

export interface ActiveCheckerOptions {
  readonly check: HealthCheck;
  readonly prober: Prober;
  readonly scheduler: Scheduler;
  readonly random: () => number;
  /** Called with each probe's verdict (never after stop()). */
  readonly onResult: (verdict: HealthVerdict, detail: string) => void;
}

export class ActiveChecker {
  readonly #options: ActiveCheckerOptions;
  #timer: TimerHandle | null = null;
  #inflight: AbortController | null = null;
  #failures = 0;
  #stopped = false;
  #started = false;

  constructor(options: ActiveCheckerOptions) {
    this.#options = options;
  }

  /** Consecutive failed probes (the backoff input); neutral results leave it unchanged. */
  get failures(): number {
    return this.#failures;
  }

  /** Schedules the first probe after the start jitter. Idempotent. */
  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    const { check, random } = this.#options;
    this.#schedule(startDelay(check.interval, random));
  }

  /** Cancels the next probe and aborts one in flight; no result is reported afterwards. */
  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = null;
    this.#inflight?.abort();
    this.#inflight = null;
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = this.#options.scheduler.setTimer(() => {
      this.#timer = null;
      void this.#probeOnce();
    }, delayMs);
  }

  async #probeOnce(): Promise<void> {
    const { check, prober, onResult } = this.#options;
    const controller = new AbortController();
    this.#inflight = controller;
    let verdict: HealthVerdict;
    let detail: string;
    try {
      ({ verdict, detail } = classifyProbe(await prober.probe({ path: check.path, timeoutMs: check.timeout_ms, signal: controller.signal })));
    } catch (err) {
      // The Prober contract says it never rejects; treat a broken one as a transport failure.
      ({ verdict, detail } = { verdict: 'failure', detail: `prober error ${(err as Error).message}` });
    }
    if (this.#stopped || controller.signal.aborted) return;
    this.#inflight = null;
    if (verdict === 'failure') this.#failures++;
    else if (verdict === 'success') this.#failures = 0;
    onResult(verdict, detail);
    this.#schedule(probeDelay(check.interval, this.#failures));
  }
}
