/**
 * Wiring of the request split's measurements and the in-node canary monitor, one call on each
 * side of the process split (bootstrap/):
 *  - `wireCanaryInWorker(store)` in every serving process (serving-worker.ts): its `outcome`
 *    goes to `createRequestHandler` and counts each request into the per-generation windows
 *    of the generation it pinned (observability/generation-health.ts); about once a second the
 *    windows are closed and sent to the primary with the candidate held (health-feed.ts).
 *  - `wireCanaryInPrimary({registry, logger})` in the primary (primary.ts): `health` is
 *    `ControlClientOptions.health` (the windows of every process summed per generation,
 *    fleet-health.ts); the monitor (canary-monitor.ts) judges a held candidate over the whole
 *    node and falls back through the CanaryFallback given to `useFallback`.
 *
 * With `--workers N` every worker counts its own requests; the primary sums them, so Reports
 * and the local check see the node. Windows reach the primary up to one second late.
 *
 * Metrics (primary registry; the primary's /metrics merges it with the workers'):
 * - spooky_canary_requests_total{generation="serving|candidate"}  counter, requests measured
 *   for a held candidate's local check (the serving side only since the candidate was held)
 * - spooky_canary_fallbacks_total                                 counter, local fall-backs
 */
import cluster, { type Worker } from 'node:cluster';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { GenerationHealth } from '@spooky/proto';
import type pino from 'pino';
import { Counter, type Registry } from 'prom-client';
import { GenerationHealthRecorder } from '../observability/generation-health.ts';
import type { RequestContext } from '../pipeline/context.ts';
import type { GenerationStore } from '../runtime/generation-store.ts';
import { CanaryMonitor } from './canary-monitor.ts';
import type { CanaryFallback } from './candidate-ports.ts';
import { FleetHealth } from './fleet-health.ts';
import { HEALTH_FEED_KIND, type HealthFeedMessage, type HeldReport, healthFeedChannel, isHealthFeedMessage } from './health-feed.ts';

const FEED_EVERY_MS = 1_000;

export interface WorkerCanary {
  /** `RequestHandlerDeps.outcome`. */
  readonly outcome: (ctx: RequestContext) => void;
  /** Closes the windows and sends them now (the feed timer does it about once a second). */
  flush(): void;
  /** Sends what is still open and stops the feed timer. */
  stop(): void;
}

/** The serving process's side; `send` defaults to the cluster IPC channel in a worker, else the in-process channel. */
export function wireCanaryInWorker(store: GenerationStore, send: (m: HealthFeedMessage) => void = defaultSend()): WorkerCanary {
  const recorder = new GenerationHealthRecorder({
    held: { serving: () => store.current(), candidate: () => store.candidate()?.generation ?? null },
  });
  let lastHeld: ReturnType<GenerationStore['candidate']> = null;
  let sinceMs = 0;
  let sentHeld = false;
  const flush = (): void => {
    const held = store.candidate();
    if (held !== lastHeld) {
      lastHeld = held;
      sinceMs = Date.now();
    }
    const windows = recorder.close();
    if (windows.length === 0 && held === null && !sentHeld) return;
    sentHeld = held !== null;
    const report: HeldReport | null =
      held === null
        ? null
        : {
            candidateDigest: held.assignment.candidateDigest,
            percent: held.assignment.percent,
            ...(held.assignment.thresholds ? { thresholds: held.assignment.thresholds } : {}),
            servingDigest: store.current()?.ref?.digest ?? null,
            sinceMs,
          };
    send({ kind: HEALTH_FEED_KIND, held: report, windows });
  };
  const timer = setInterval(flush, FEED_EVERY_MS);
  timer.unref();
  return {
    outcome(ctx) {
      // Local: the proxy made the reply (no upstream response, or its status was replaced).
      const response = ctx.response;
      recorder.record(ctx.generation, ctx.status, response === null || response.status !== ctx.status, performance.now() - ctx.startedAt);
    },
    flush,
    stop() {
      clearInterval(timer);
      flush();
    },
  };
}

function isCanaryFallback(source: object): source is CanaryFallback {
  return typeof (source as Partial<CanaryFallback>).fallBack === 'function';
}

function defaultSend():  (m: HealthFeedMessage) => void {
  if (cluster.isWorker) {
    return (m) => {
      if (process.connected) process.send?.(m);
    };
  }
  return (m) => {
    if (healthFeedChannel.hasSubscribers) healthFeedChannel.publish(m);
  };
}

export interface PrimaryCanary {
  /** `ControlClientOptions.health`. */
  readonly health: () => readonly GenerationHealth[];
  /**
   * Who falls back on a local regression: the control client, which is the node's
   * CanaryFallback (`fallBack`). An object without `fallBack` leaves decisions logged and
   * counted only (the log line says `wired: false`).
   */
  useFallback(source: CanaryFallback | object): void;
  /** The monitor, for tests and the admin view. */
  readonly monitor: CanaryMonitor;
  stop(): void;
}

export function wireCanaryInPrimary(opts: { readonly registry: Registry; readonly logger: pino.Logger }): PrimaryCanary {
  const requests = new Counter({
    name: 'spooky_canary_requests_total',
    help: 'Requests measured for a held candidate generation (in-node canary), by side: the candidate, or the serving generation since the candidate was held.',
    labelNames: ['generation'] as const,
    registers: [opts.registry],
  });
  const fallbacks = new Counter({
    name: 'spooky_canary_fallbacks_total',
    help: 'Candidate generations this node fell back from on its own (in-node canary regression).',
    registers: [opts.registry],
  });
  requests.inc({ generation: 'serving' }, 0);
  requests.inc({ generation: 'candidate' }, 0);
  fallbacks.inc(0);
  let fallback: CanaryFallback | null = null;
  const fleet = new FleetHealth();
  const monitor = new CanaryMonitor({
    logger: opts.logger,
    fallback: () => fallback,
    metrics: { requests: (generation, n) => requests.inc({ generation }, n), fellBack: () => fallbacks.inc() },
  });
  const take = (source: string, m: HealthFeedMessage): void => {
    fleet.add(m.windows);
    monitor.observe(source, m);
  };
  const onWorkerMessage = (worker: Worker, m: unknown): void => {
    if (isHealthFeedMessage(m)) take(`worker-${worker.id}`, m);
  };
  const onWorkerExit = (worker: Worker): void => monitor.forget(`worker-${worker.id}`);
  const onLocal = (m: unknown): void => {
    if (isHealthFeedMessage(m)) take('local', m);
  };
  cluster.on('message', onWorkerMessage);
  cluster.on('exit', onWorkerExit);
  subscribe(healthFeedChannel.name, onLocal);
  return {
    health: () => fleet.health(),
    useFallback(source) {
      fallback = isCanaryFallback(source) ? source : null;
    },
    monitor,
    stop() {
      cluster.off('message', onWorkerMessage);
      cluster.off('exit', onWorkerExit);
      unsubscribe(healthFeedChannel.name, onLocal);
      monitor.stop();
    },
  };
}
