#!/usr/bin/env node
/**
 * Composition root of the data plane process: settings → modules → start.
 *
 *   node dataplane/src/main.ts --control-plane HOST:PORT --node-id ID --scope SCOPE \
 *     --cache-dir DIR --admin HOST:PORT [--label k=v]... [--log-level info] \
 *     [--cache-grace-ms 2000] [--cache-max-age 24h]
 *   node dataplane/src/main.ts --config FILE --admin HOST:PORT          (standalone)
 *   both: [--max-generation-memory-mb 1024] [--no-supervise]
 *
 * Process model: this process parses the flags (exit 2 on bad ones) and becomes the
 * supervisor (bootstrap/supervisor.ts, a node:cluster primary) which runs the serving code
 * below in a worker process and restarts it when it crashes. `--no-supervise` serves in this
 * process (debugging). The exit codes are the same either way.
 *
 * Exit codes: 0 after a clean shutdown (SIGTERM/SIGINT), 1 on a startup failure (admin port,
 * standalone config rejected), a stuck shutdown or a crash loop, 2 on bad flags.
 *
 * Log lines other processes wait on: "data plane started" {admin: "http://HOST:PORT"} once
 * the admin server listens; "generation applied" / "generation rejected" per apply;
 * "health transition" {upstream, backend, from, to, reason} per backend status change;
 * "data plane stopped" before a clean exit; with a control plane also "generation cached" and
 * "disk cache not served" (see cache/), and "crashed while applying a generation" {seq,
 * digest} at boot when the previous process died mid-apply (cache/apply-journal.ts). Each
 * line carries the serving process's `pid`; the supervisor's lines say "worker started" /
 * "worker exited" {workerPid} (bootstrap/supervisor.ts).
 */
import cluster from 'node:cluster';
import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { SCHEMA_VERSION } from '@spooky/config';
import { startAdminServer } from './admin/admin-server.ts';
import { createServingApplier } from './apply/serving-applier.ts';
import { parseFlags, type Settings, USAGE } from './bootstrap/flags.ts';
import { type PrimaryToWorker, runSupervisor, type WorkerToPrimary } from './bootstrap/supervisor.ts';
import { loadConfigFile } from './bootstrap/load-config-file.ts';
import { type ApplyJournal, openApplyJournal } from './cache/apply-journal.ts';
import { withGenerationCache } from './cache/caching-applier.ts';
import { type ColdStart, startColdStart } from './cache/cold-start.ts';
import { createGenerationCache } from './cache/generation-cache.ts';
import { type ControlClient, createControlClient } from './control/control-client.ts';
import { startHealthLog } from './health/health-log.ts';
import { healthUnreadyReason } from './health/readiness.ts';
import { ListenerManager } from './ingress/listener-manager.ts';
import { reportInternalError } from './barrier/internal-error.ts';
import { startAccessLog } from './observability/access-log.ts';
import { startInternalErrorLog } from './observability/internal-error-log.ts';
import { startMirrorLog } from './mirroring/mirror-events.ts';
import { startRouteTrace } from './routing/route-trace.ts';
import { createLogDestination, createLogger } from './observability/logger.ts';
import { createMetrics } from './observability/metrics.ts';
import { createRequestHandler } from './pipeline/request-handler.ts';
import { GenerationStore } from './runtime/generation-store.ts';
import { LongLivedState } from './runtime/long-lived-state.ts';

const BUILD = `spooky-dataplane/0.1.0 node/${process.versions.node}`;

/** Serves until a signal (or, supervised, the primary's shutdown request). Resolves once serving. */
async function serve(settings: Settings): Promise<void> {
  const logDestination = createLogDestination();
  const logger = createLogger(settings.logLevel, logDestination);
  // Crash barrier, last line: everything per request, connection and library object is
  // contained where it happens (barrier/internal-error.ts). An exception that still gets here
  // means unknown state: log it, count it, and exit non-zero so the supervisor starts a clean
  // process. Never swallowed: the e2e harness fails a test on this line.
  process.on('uncaughtException', (err) => {
    reportInternalError('process', err);
    logger.fatal({ err: err.message, stack: err.stack }, 'uncaught exception');
    process.exit(1);
  });
  const bootId = randomUUID();
  const metrics = createMetrics();
  const stopAccessLog = startAccessLog(logger, logDestination);
  const stopRouteTrace = startRouteTrace(logger);
  const stopMirrorLog = startMirrorLog(logger);
  const stopHealthLog = startHealthLog(logger);
  const stopInternalErrorLog = startInternalErrorLog(logger);
  const store = new GenerationStore();
  const state = new LongLivedState();
  metrics.watchResilience(state);
  const handleRequest = createRequestHandler({ store, state, logger });
  const listeners = new ListenerManager({
    handler: (exchange) => metrics.trackInflight(() => handleRequest(exchange)),
    logger,
    drainMs: settings.drainTimeoutMs,
    registry: metrics.registry,
  });
  // The apply journal lives in the cache dir: read a marker a crashed predecessor left behind
  // before anything is applied (cache/apply-journal.ts).
  let journal: ApplyJournal | undefined;
  let crashedOn: ReturnType<typeof openApplyJournal>['crashedOn'] = null;
  if (settings.mode === 'control-plane') {
    await mkdir(settings.cacheDir, { recursive: true });
    ({ journal, crashedOn } = openApplyJournal(settings.cacheDir, logger));
  }
  const applier = createServingApplier({
    store,
    state,
    listeners,
    logger,
    observer: {
      applied(ref) {
        metrics.applied(ref);
        // The served generation's `log.level`, live; an explicit --log-level wins.
        const level = store.current()?.config.log.level;
        if (!settings.logLevelFromFlag && level !== undefined && level !== logger.level) logger.level = level;
      },
      rejected: () => metrics.rejected(),
    },
    maxGenerationBytes: settings.maxGenerationBytes,
    ...(journal ? { journal } : {}),
  });

  let draining = false;
  let coldStart: ColdStart | null = null;
  let admin: Awaited<ReturnType<typeof startAdminServer>>;
  try {
    admin = await startAdminServer(settings.admin.host, settings.admin.port, {
      applier,
      registry: metrics.registry,
      draining: () => draining,
      notServingReason: () => coldStart?.notServingReason() ?? null,
      healthUnreadyReason: () => {
        const served = store.current();
        return served === null ? null : healthUnreadyReason(served.upstreams.values(), (u, a) => state.health.isAvailable(u, a));
      },
    });
  } catch (err) {
    logger.fatal({ err: (err as Error).message, admin: settings.admin }, 'admin server could not listen');
    process.exit(1);
  }
  logger.info({ admin: admin.url, bootId, mode: settings.mode, build: BUILD }, 'data plane started');

  let control: ControlClient | null = null;
  let stopping = false;
  /** `forceOnRepeat`: a second OS signal forces the exit; the primary's IPC request never does. */
  const shutdown = async (signal: string, forceOnRepeat = true): Promise<void> => {
    if (stopping) {
      if (!forceOnRepeat) return;
      logger.warn({ signal }, 'second signal: exiting without draining');
      process.exit(1);
    }
    stopping = true;
    draining = true;
    logger.info({ signal, inflight: listeners.inflight(), drainTimeoutMs: settings.drainTimeoutMs }, 'data plane stopping');
    const hardStop = setTimeout(() => {
      logger.error('shutdown did not finish in time');
      process.exit(1);
    }, settings.drainTimeoutMs + 5000);
    hardStop.unref();
    coldStart?.cancel();
    await control?.stop().catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'control client stop failed'));
    await listeners.closeAll(settings.drainTimeoutMs);
    await state.close();
    stopAccessLog();
    stopRouteTrace();
    stopMirrorLog();
    stopHealthLog();
    stopInternalErrorLog();
    metrics.close();
    await admin.close();
    logger.info('data plane stopped');
    process.exit(0);
  };
  // A second signal while draining forces the exit (see shutdown).
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  if (cluster.isWorker) {
    process.on('message', (m: PrimaryToWorker) => {
      if (m?.kind === 'shutdown') void shutdown(m.signal, false);
    });
    // The supervisor is gone (killed): nobody would restart or stop us; drain and exit.
    process.on('disconnect', () => void shutdown('supervisor gone', false));
  }

  if (settings.mode === 'standalone') {
    const loaded = await loadConfigFile(settings.configFile);
    if (!loaded.ok) {
      logger.fatal({ file: settings.configFile, issues: loaded.issues }, 'config file rejected');
      process.exit(1);
    }
    const result = await applier.apply(loaded.payload, loaded.ref, 'local-file');
    if (!result.ok) process.exit(1); // "generation rejected" already logged with the issues
    return;
  }

  // Every generation the control plane delivers and we apply is cached on disk; if the control
  // plane stays silent for the grace period, the cache is served instead (cache/cold-start.ts).
  // After a crash mid-apply the cache (the last good generation) is served at once: waiting
  // would only receive the push that killed the previous process.
  if (crashedOn !== null) {
    logger.warn({ seq: crashedOn.seq, digest: crashedOn.digest, startedAt: crashedOn.startedAt }, 'crashed while applying a generation');
  }
  const cache = createGenerationCache(settings.cacheDir);
  const caching = withGenerationCache(applier, cache, logger);
  control = createControlClient({
    address: settings.controlPlane,
    nodeId: settings.nodeId,
    bootId,
    scope: settings.scope,
    labels: settings.labels,
    schemaMin: 1,
    schemaMax: SCHEMA_VERSION,
    build: BUILD,
    applier: caching,
    logger,
    counters: () => metrics.counters(),
  });
  control.start();
  coldStart = startColdStart({
    applier: caching,
    cache,
    scope: settings.scope,
    graceMs: crashedOn !== null ? 0 : settings.cacheGraceMs,
    maxAgeMs: settings.cacheMaxAgeMs,
    logger,
  });
}

const flags = parseFlags(process.argv.slice(2));
if (!flags.ok) {
  process.stderr.write(`spooky-dataplane: ${flags.error}\n${USAGE}\n`);
  process.exit(2);
}
if (flags.settings.supervise && cluster.isPrimary) {
  await runSupervisor({
    argv: process.argv.slice(2),
    admin: flags.settings.admin,
    workers: 1,
    logger: createLogger(flags.settings.logLevel),
    hardStopMs: flags.settings.drainTimeoutMs + 10_000,
  });
} else {
  await serve(flags.settings);
  // Supervised: tell the primary we serve, so a later exit counts as a crash, not a startup failure.
  if (cluster.isWorker) process.send?.({ kind: 'ready' } satisfies WorkerToPrimary);
}
