/**
 * The in-node canary's monitor (docs/rollout.md §5, "Local safety net"), run in the primary
 * over the health feed of every serving process (health-feed.ts). While a candidate is held it
 * sums, since the candidate was held, the candidate's requests and its serving generation's
 * (the baseline: same node, same time), and every `checkEveryMs` (default 2 s; a timer armed
 * only while a candidate is held, unref'd) asks `checkCanary` with the assignment's thresholds.
 * No thresholds → no local check. A `fall-back` calls `CanaryFallback.fallBack(digest,
 * findings)` exactly once per candidate digest (also when the candidate is held again later in
 * this process's life), logs one warning line with the numbers and counts
 * `spooky_canary_fallbacks_total`.
 *
 * "Held" is what the processes report: a candidate stays held while at least one process
 * reports it; when none does any more (promoted, dropped, rolled back) the sums are discarded.
 * A candidate seen for the first time (or another one) starts new sums. Serving windows that
 * began before the process saw the candidate held are not part of the baseline; every window of
 * the candidate is (it serves nothing before it is held).
 */
import type { GenerationHealth } from '@spooky/proto';
import type pino from 'pino';
import { LATENCY_BUCKETS } from '../observability/generation-health.ts';
import type { CanaryFallback } from './candidate-ports.ts';
import type { HealthFeedMessage, HeldReport } from './health-feed.ts';
import { type CanaryDecision, type CanaryThresholds, checkCanary, type GenerationStats } from './in-node-canary.ts';
import { latencyQuantileMs } from './latency-quantile.ts';

const DEFAULT_CHECK_EVERY_MS = 2_000;

/** What the monitor counts in metrics (canary-wiring.ts binds it to prom-client). */
export interface CanaryMetrics {
  /** Requests measured for the held candidate's decision, by side. */
  requests(generation: 'serving' | 'candidate', n: number): void;
  fellBack(): void;
}

/** Arms a repeating timer; default: setInterval, unref'd (the monitor never keeps a process alive). */
export type RepeatTimer = (fn: () => void, everyMs: number) => { cancel(): void };

export interface CanaryMonitorOptions {
  readonly logger: pino.Logger;
  /** Who falls back; null while none is wired (then the decision is only logged and counted). */
  readonly fallback: () => CanaryFallback | null;
  readonly metrics?: CanaryMetrics;
  readonly checkEveryMs?: number;
  readonly timer?: RepeatTimer;
}

class Side {
  requests = 0;
  errors5xx = 0;
  readonly buckets: number[] = new Array<number>(LATENCY_BUCKETS).fill(0);

  add(w: GenerationHealth): void {
    this.requests += w.requests;
    this.errors5xx += w.local5xx + w.upstream5xx;
    for (let i = 0; i < LATENCY_BUCKETS; i++) (this.buckets[i] as number) += w.latencyBucketCounts[i] ?? 0;
  }

  stats(): GenerationStats {
    return { requests: this.requests, errors5xx: this.errors5xx, p99Ms: latencyQuantileMs(this.buckets, 0.99) };
  }
}

interface Episode {
  readonly digest: string;
  readonly thresholds: CanaryThresholds | undefined;
  readonly servingDigest: string | null;
  readonly candidate: Side;
  readonly serving: Side;
  done: boolean;
}

const intervalTimer: RepeatTimer = (fn, everyMs) => {
  const t = setInterval(fn, everyMs);
  t.unref();
  return { cancel: () => clearInterval(t) };
};

export class CanaryMonitor {
  readonly #opts: CanaryMonitorOptions;
  readonly #timer: RepeatTimer;
  /** The candidate digest each process reports holding (null: none). */
  readonly #holders = new Map<string, string | null>();
  readonly #fellBack = new Set<string>();
  #episode: Episode | null = null;
  #armed: { cancel(): void } | null = null;

  constructor(opts: CanaryMonitorOptions) {
    this.#opts = opts;
    this.#timer = opts.timer ?? intervalTimer;
  }

  /** One feed message from process `source` (a worker id, or "local"). */
  observe(source: string, message: HealthFeedMessage): void {
    const held = message.held;
    this.#holders.set(source, held?.candidateDigest ?? null);
    if (held !== null && this.#episode?.digest !== held.candidateDigest) this.#begin(held);
    const episode = this.#episode;
    if (episode === null) return;
    for (const w of message.windows) {
      const digest = w.generation?.digest;
      if (digest === episode.digest) {
        episode.candidate.add(w);
        this.#opts.metrics?.requests('candidate', w.requests);
      } else if (
        held !== null &&
        held.candidateDigest === episode.digest &&
        digest !== undefined &&
        digest === held.servingDigest &&
        w.fromUnixMs >= held.sinceMs
      ) {
        episode.serving.add(w);
        this.#opts.metrics?.requests('serving', w.requests);
      }
    }
    if (![...this.#holders.values()].includes(episode.digest)) this.#end();
  }

  /** Process `source` is gone (a worker exited): it holds nothing any more. */
  forget(source: string): void {
    this.#holders.delete(source);
    const episode = this.#episode;
    if (episode !== null && ![...this.#holders.values()].includes(episode.digest)) this.#end();
  }

  /**
   * Judges the held candidate now (the timer calls it); the decision, or null when there is
   * nothing to judge (no candidate, no thresholds, or it already fell back).
   */
  check(): CanaryDecision | null {
    const episode = this.#episode;
    if (episode === null || episode.done || episode.thresholds === undefined) return null;
    const candidate = episode.candidate.stats();
    const serving = episode.serving.stats();
    const decision = checkCanary(episode.thresholds, candidate, serving);
    if (decision.kind !== 'fall-back') return decision;
    episode.done = true;
    this.#disarm();
    this.#fellBack.add(episode.digest);
    this.#opts.metrics?.fellBack();
    const fallback = this.#opts.fallback();
    this.#opts.logger.warn(
      { candidate: episode.digest, serving: episode.servingDigest, candidateStats: candidate, servingStats: serving, findings: decision.findings, wired: fallback !== null },
      'canary regressed: falling back to the serving generation',
    );
    fallback?.fallBack(episode.digest, decision.findings);
    return decision;
  }

  /** True while the check timer is armed (a candidate is held and not yet judged bad). */
  get running(): boolean {
    return this.#armed !== null;
  }

  /** Disarms the timer (shutdown). */
  stop(): void {
    this.#disarm();
  }

  #begin(held: HeldReport): void {
    this.#disarm();
    const done = this.#fellBack.has(held.candidateDigest);
    this.#episode = {
      digest: held.candidateDigest,
      thresholds: held.thresholds,
      servingDigest: held.servingDigest,
      candidate: new Side(),
      serving: new Side(),
      done,
    };
    if (!done && held.thresholds !== undefined) {
      this.#armed = this.#timer(() => void this.check(), this.#opts.checkEveryMs ?? DEFAULT_CHECK_EVERY_MS);
    }
  }

  #end(): void {
    this.#disarm();
    this.#episode = null;
  }

  #disarm(): void {
    this.#armed?.cancel();
    this.#armed = null;
  }
}
