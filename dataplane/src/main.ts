#!/usr/bin/env node
/**
 * Entry point of the data plane: settings → role → start.
 *
 *   node dataplane/src/main.ts --control-plane HOST:PORT --node-id ID --scope SCOPE \
 *     --cache-dir DIR --admin HOST:PORT [--label k=v]... [--log-level info] \
 *     [--cache-grace-ms 2000] [--cache-max-age 24h]
 *   node dataplane/src/main.ts --config FILE --admin HOST:PORT          (standalone)
 *   both: [--max-generation-memory-mb 1024] [--workers N] [--no-supervise]
 *   every flag also as SPOOKY_DP_<FLAG_NAME> in the environment; the flag wins (bootstrap/flags.ts)
 *
 * Process model: this process parses the flags (exit 2 on bad ones) and becomes the primary
 * (bootstrap/primary.ts): the node identity (admin server, control-plane session, disk
 * cache), which forks `--workers N` serving processes (default: the number of cores) with
 * node:cluster (bootstrap/supervisor.ts), hands each generation to all of them and restarts
 * any that crashes. A cluster worker runs this file again and becomes a serving worker
 * (bootstrap/serving-worker.ts, answering the primary over IPC: bootstrap/worker-ipc.ts).
 * `--no-supervise` serves in the primary's own process (debugging). The exit codes are the
 * same either way.
 *
 * Exit codes: 0 after a clean shutdown (SIGTERM/SIGINT), 1 on a startup failure (admin port,
 * standalone config rejected), a stuck shutdown or a crash loop, 2 on bad flags.
 *
 * Log lines other processes wait on: "data plane started" {admin: "http://HOST:PORT",
 * workers} once the admin server listens (from the primary); per worker "worker ready"
 * {slot}, "generation applied" / "generation rejected" per apply; from the primary
 * "generation applied by all workers" {seq, workers} once every worker swapped (the Ack);
 * "health transition" {upstream, backend, from, to, reason} per backend status change (per
 * worker: each runs its own checks); "data plane stopped" before the exit; with a control plane
 * also "generation cached" and "disk cache not served" (see cache/), and "crashed while
 * applying a generation" {seq, digest} when a worker (or, at boot, the previous primary) died
 * mid-apply (cache/apply-journal.ts, apply/fleet-applier.ts). Each line carries its
 * process's `pid`; the supervisor's lines say "worker started" / "worker exited" {workerPid}.
 */
import cluster from 'node:cluster';
import { reportInternalError } from './barrier/internal-error.ts';
import { parseFlags, USAGE } from './bootstrap/flags.ts';
import { runPrimary } from './bootstrap/primary.ts';
import { startServingWorker } from './bootstrap/serving-worker.ts';
import { serveOverIpc } from './bootstrap/worker-ipc.ts';
import { WORKER_SLOT_ENV } from './bootstrap/worker-protocol.ts';
import { createLogDestination, createLogger } from './observability/logger.ts';
import { applyGcTuning } from './runtime/gc-tuning.ts';
import { startIdleMemoryRelease } from './runtime/idle-memory.ts';
import { applySchedBatch } from './runtime/sched-tuning.ts';

applyGcTuning(process.env);

const flags = parseFlags(process.argv.slice(2), undefined, process.env);
if (!flags.ok) {
  process.stderr.write(`spooky-dataplane: ${flags.error}\n${USAGE}\n`);
  process.exit(2);
}
const settings = flags.settings;
const logDestination = createLogDestination();
const logger = createLogger(settings.logLevel, logDestination);
// Gives back what a load left in V8's heap once this process is idle (runtime/idle-memory.ts).
startIdleMemoryRelease(process.env, { onRelease: (ms) => logger.debug({ ms: Math.round(ms) }, 'idle memory released') });
// Crash barrier, last line: everything per request, connection and library object is
// contained where it happens (barrier/internal-error.ts). An exception that still gets here
// means unknown state: log it, count it, and exit non-zero so the supervisor starts a clean
// process (a worker) or systemd restarts the host's data plane (the primary). Never
// swallowed: the e2e harness fails a test on this line.
process.on('uncaughtException', (err) => {
  reportInternalError('process', err);
  logger.fatal({ err: err.message, stack: err.stack }, 'uncaught exception');
  process.exit(1);
});
if (cluster.isWorker) {
  const slot = Number(process.env[WORKER_SLOT_ENV] ?? '0');
  const worker = startServingWorker({
    slot,
    logger,
    logDestination,
    logLevelFromFlag: settings.logLevelFromFlag,
    drainTimeoutMs: settings.drainTimeoutMs,
    drainTimeoutFromFlag: settings.drainTimeoutFromFlag,
    maxGenerationBytes: settings.maxGenerationBytes,
  });
  serveOverIpc(worker, slot, logger);
} else {
  // Before any worker is forked: the workers and every later thread inherit the policy.
  const sched = applySchedBatch(process.env);
  if (sched.applied) logger.debug({ policy: 'batch' }, 'scheduling policy set');
  else if (sched.reason === 'failed') logger.warn({ policy: 'batch', detail: sched.detail }, 'scheduling policy not set; serving with the default one');
  await runPrimary(settings, process.argv.slice(2), logger, logDestination);
}
