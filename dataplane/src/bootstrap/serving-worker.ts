/**
 * The serving half of the data plane: listeners, the request pipeline, health checking,
 * metrics and logs of one process, fed generations by the primary (bootstrap/primary.ts)
 * through prepare / commit / abort. It holds no node identity: no control-plane session, no
 * disk cache, no admin server (those are the primary's). Run in a cluster worker
 * (worker-ipc.ts answers the primary) or, with `--no-supervise`, in the primary's own process
 * (local-worker.ts).
 *
 * Metrics: the process registry (observability/metrics.ts) plus
 * `spooky_worker_requests_total{worker}` (requests finished by this worker slot), so the
 * primary's aggregated /metrics shows how the kernel spread the traffic over the workers, and
 * the runtime stall families (observability/runtime-stalls.ts).
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type pino from 'pino';
import { Counter } from 'prom-client';
import { createServingApplier, type PreparedApply } from '../apply/serving-applier.ts';
import type { WorkerCounters, WorkerStatus } from '../apply/worker-handle.ts';
import type { ApplyResult, GenerationRef, ServingSource } from '../control/generation-applier.ts';
import { startHealthLog } from '../health/health-log.ts';
import { healthUnreadyReason } from '../health/readiness.ts';
import { ListenerManager } from '../ingress/listener-manager.ts';
import { startMirrorLog } from '../mirroring/mirror-events.ts';
import { startAccessLog } from '../observability/access-log.ts';
import type { LineSink } from '../observability/batched-lines.ts';
import { dnsRefreshObserver } from '../observability/dns-refresh-observer.ts';
import { startInternalErrorLog } from '../observability/internal-error-log.ts';
import { createMetrics } from '../observability/metrics.ts';
import { watchRuntimeStalls } from '../observability/runtime-stalls.ts';
import { createRequestHandler } from '../pipeline/request-handler.ts';
import { wireCanaryInWorker } from '../rollout/canary-wiring.ts';
import type { CanaryAssignment } from '../rollout/in-node-canary.ts';
import { startRouteTrace } from '../routing/route-trace.ts';
import { GenerationStore } from '../runtime/generation-store.ts';
import { LongLivedState } from '../runtime/long-lived-state.ts';
import { TracingRuntime } from '../tracing/tracing-runtime.ts';
import { guardClusterListen } from './cluster-listen-guard.ts';
import { CHANNELS } from '../telemetry/channel-names.ts';

/** Bound on closing the upstream pools and health checks at shutdown, after the listeners. */
const STATE_CLOSE_MS = 2_000;

export interface ServingWorkerOptions {
  readonly slot: number;
  readonly logger: pino.Logger;
  /** The logger's destination; the access log batches its lines into it. */
  readonly logDestination: LineSink;
  /** `--log-level` was given: it wins over the served generation's `log.level`. */
  readonly logLevelFromFlag: boolean;
  /** `--drain-timeout-ms` (or its default). */
  readonly drainTimeoutMs: number;
  /** The flag was given: it wins over the generation's `performance.shutdown_drain_timeout_ms`. */
  readonly drainTimeoutFromFlag: boolean;
  readonly maxGenerationBytes: number;
}

export interface ServingWorker {
  /** First phase of an apply (with `canary`: of a hold); one at a time (the primary serializes). */
  prepare(payload: Uint8Array, ref: GenerationRef, source: ServingSource, canary?: CanaryAssignment): Promise<ApplyResult>;
  /** The held candidate serves fully. */
  promote(): Promise<ApplyResult>;
  /** Drops the held candidate; a no-op when none. */
  dropCandidate(): Promise<void>;
  /** Swaps in the last successful prepare; a no-op when there is none. */
  commit(): void;
  abort(): Promise<void>;
  status(): WorkerStatus;
  metrics(): Promise<object[]>;
  counters(): WorkerCounters;
  inflight(): number;
  /**
   * The drain bound `stop()` uses: the served generation's
   * `performance.shutdown_drain_timeout_ms`, unless `--drain-timeout-ms` was given (or no
   * generation is served: then the flag's value, default 5000).
   */
  drainTimeoutMs(): number;
  /**
   * Drains (ingress/serving-listener.ts: GOAWAY / `Connection: close`, in-flight requests run
   * up to `drainTimeoutMs()`), cuts what is left, and closes everything.
   */
  stop(): Promise<void>;
}

export function startServingWorker(opts: ServingWorkerOptions): ServingWorker {
  const { logger } = opts;
  // Before any listener opens: a failed bind must not poison the cluster's handle tables.
  guardClusterListen();
  const metrics = createMetrics();
  const served = new Counter({
    name: 'spooky_worker_requests_total',
    help: 'Requests finished, by worker slot (0..workers-1; a restarted worker keeps its slot).',
    labelNames: ['worker'] as const,
    registers: [metrics.registry],
  });
  const stopStalls = watchRuntimeStalls(metrics.registry);
  const mine = served.labels({ worker: String(opts.slot) });
  mine.inc(0);
  const onEnd = (): void => {
    mine.inc();
  };
  subscribe(CHANNELS.requestEnd, onEnd);
  const stopLogs = [startAccessLog(logger, opts.logDestination), startRouteTrace(logger), startMirrorLog(logger), startHealthLog(logger), startInternalErrorLog(logger)];
  const store = new GenerationStore();
  const state = new LongLivedState({ dns: { report: dnsRefreshObserver(logger, metrics.registry) } });
  metrics.watchResilience(state);
  const canary = wireCanaryInWorker(store);
  const tracing = new TracingRuntime(logger);
  const handleRequest = createRequestHandler({ store, state, logger, outcome: canary.outcome, tracing });
  const listeners = new ListenerManager({
    handler: (exchange) => metrics.trackInflight(() => handleRequest(exchange)),
    logger,
    drainMs: opts.drainTimeoutMs,
    registry: metrics.registry,
  });
  const observer = {
    applied(ref: GenerationRef, seconds: number): void {
      metrics.applied(ref, seconds);
      // The served generation's `log.level`, live, set before "generation applied" is logged (so
      // that line obeys it); an explicit --log-level (or SPOOKY_DP_LOG_LEVEL) wins. The primary
      // follows (follow-worker-log-level.ts).
      const level = store.current()?.config.log.level;
      if (!opts.logLevelFromFlag && level !== undefined && level !== logger.level) logger.level = level;
    },
    rejected: (seconds: number): void => metrics.rejected(seconds),
  };
  const applier = createServingApplier({ store, state, listeners, logger, observer, maxGenerationBytes: opts.maxGenerationBytes });
  let pending: PreparedApply | null = null;
  const drainTimeoutMs = (): number => {
    if (opts.drainTimeoutFromFlag) return opts.drainTimeoutMs;
    return store.current()?.config.performance.shutdown_drain_timeout_ms ?? opts.drainTimeoutMs;
  };

  return {
    async prepare(payload, ref, source, canary) {
      if (pending !== null) await pending.abort();
      const prepared = await applier.prepare(payload, ref, source, canary);
      pending = prepared.result.ok ? prepared : null;
      return prepared.result;
    },
    promote: () => applier.promote(),
    dropCandidate: () => applier.dropCandidate(),
    commit() {
      const p = pending;
      pending = null;
      p?.commit();
    },
    async abort() {
      const p = pending;
      pending = null;
      await p?.abort();
    },
    status() {
      const serving = applier.serving();
      const current = store.current();
      return {
        serving,
        listeners: applier.listeners(),
        healthUnreadyReason: current === null ? null : healthUnreadyReason(current.upstreams.values(), (u, a) => state.health.isAvailable(u, a)),
        logLevel: logger.level,
      };
    },
    metrics: () => metrics.registry.getMetricsAsJSON(),
    counters: () => metrics.counters(),
    inflight: () => listeners.inflight(),
    drainTimeoutMs,
    async stop() {
      await listeners.closeAll(drainTimeoutMs());
      // Upstream pools close once their requests end; after the cut every exchange has been
      // aborted, so this is quick — bounded all the same, the process exits after stop().
      let timer: NodeJS.Timeout | undefined;
      const closed = await Promise.race([
        state.close().then(() => true),
        new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), STATE_CLOSE_MS);
        }),
      ]);
      clearTimeout(timer);
      if (!closed) logger.warn({ waitedMs: STATE_CLOSE_MS }, 'upstream pools did not close in time');
      // Queued spans go out (bounded: tracing-runtime.ts CLOSE_BOUND_MS).
      await tracing.close();
      for (const stop of stopLogs) stop();
      canary.stop();
      unsubscribe(CHANNELS.requestEnd, onEnd);
      stopStalls();
      metrics.close();
    },
  };
}
