/**
 * The data plane's primary process: the one node identity of the host. It holds the admin
 * server, the control-plane session (control/control-client.ts), the disk cache and its cold
 * start (cache/), the apply journal, and hands every generation to the serving workers through
 * the fleet applier (apply/fleet-applier.ts); it serves no traffic itself. Workers are cluster
 * processes (supervisor.ts) or, with `--no-supervise`, the serving code in this process
 * (local-worker.ts).
 *
 * Start: admin bound → workers forked → "data plane started" → every initial worker joined →
 * standalone: the file (read and validated once, here, before any fork) is applied on all
 * workers; control-plane mode: the control client and the cold start begin.
 * Standalone, every worker thus serves the same bytes, and a restarted worker gets the file as
 * it was read at start (not as it is on disk now).
 *
 * In-node canary crash window (docs/rollout.md §5): the apply journal's candidate record
 * (cache/apply-journal.ts) is judged at start with decideAtStart: `fall-back` (the previous
 * process died within the crash window after holding the candidate, without a clean stop)
 * serves the disk cache (the serving generation N, never a candidate) at once and NACKs the
 * candidate after the first Hello (phase "canary", `canary.crashed`); `resume-candidate` serves
 * N as usual (the control plane re-asserts the candidate). A clean shutdown records
 * `cleanStop` before exiting.
 *
 * Exit codes: 0 after a clean shutdown, 1 on a startup failure (admin port, standalone config
 * rejected, a worker that died before serving), a stuck shutdown or a crash loop.
 * Log lines: "data plane started" {admin, bootId, mode, build, workers}; "config file
 * rejected" {file, issues}; "data plane stopping" {signal}; "data plane stopped" {code}; the
 * control client's, the cache's, the fleet's and the supervisor's own.
 */
import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { SCHEMA_VERSION } from '@spooky/config';
import type pino from 'pino';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { type AdminServer, startAdminServer } from '../admin/admin-server.ts';
import { createFleetApplier } from '../apply/fleet-applier.ts';
import { type ApplyJournal, openApplyJournal } from '../cache/apply-journal.ts';
import { withGenerationCache } from '../cache/caching-applier.ts';
import { type ColdStart, startColdStart } from '../cache/cold-start.ts';
import { createGenerationCache } from '../cache/generation-cache.ts';
import { type ControlClient, createControlClient } from '../control/control-client.ts';
import type { LineSink } from '../observability/batched-lines.ts';
import { wireCanaryInPrimary } from '../rollout/canary-wiring.ts';
import { decideAtStart, type StartDecision } from '../rollout/in-node-canary.ts';
import { type ControlTlsMaterial, controlTlsReader, loadControlTls } from './control-tls.ts';
import type { Settings } from './flags.ts';
import { followWorkerLogLevel } from './follow-worker-log-level.ts';
import { fleetMetrics, workersView } from './fleet-view.ts';
import { loadConfigFile } from './load-config-file.ts';
import { localWorker } from './local-worker.ts';
import { startServingWorker } from './serving-worker.ts';
import { startSupervisor } from './supervisor.ts';
import { linkWorker } from './worker-link.ts';

const BUILD = `spooky-dataplane/0.1.0 node/${process.versions.node}`;
/** Bound on one worker's answer to an admin question (status, metrics). */
const ADMIN_ASK_MS = 2_000;

export async function runPrimary(settings: Settings, argv: readonly string[], logger: pino.Logger, logDestination: LineSink): Promise<void> {
  const bootId = randomUUID();
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'spooky_' });
  const restarts = new Counter({
    name: 'spooky_worker_restarts_total',
    help: 'Serving workers that exited unasked and were replaced (or given up on).',
    registers: [registry],
  });
  restarts.inc(0);
  const canary = wireCanaryInPrimary({ registry, logger });

  let journal: ApplyJournal | undefined;
  let crashedOn: ReturnType<typeof openApplyJournal>['crashedOn'] = null;
  let candidateAtBoot: ReturnType<typeof openApplyJournal>['candidateAtBoot'] = null;
  let controlTls: ControlTlsMaterial | null = null;
  if (settings.mode === 'control-plane') {
    try {
      controlTls = settings.controlTls ? loadControlTls(settings.controlTls) : null;
    } catch (err) {
      // Before any worker starts: nothing to drain. The message names the flag, never key text.
      logger.fatal({ reason: (err as Error).message }, 'control-plane TLS files unreadable');
      process.exit(1);
    }
    await mkdir(settings.cacheDir, { recursive: true });
    ({ journal, crashedOn, candidateAtBoot } = openApplyJournal(settings.cacheDir, logger));
  }
  const atStart: StartDecision =
    candidateAtBoot === null
      ? { kind: 'no-candidate' }
      : decideAtStart(
          { candidateDigest: candidateAtBoot.digest, appliedAtMs: candidateAtBoot.appliedAtMs, cleanStop: candidateAtBoot.cleanStop },
          Date.now(),
          candidateAtBoot.crashWindowMs,
        );
  // The record is judged once: what this process holds is recorded anew.
  if (candidateAtBoot !== null) await journal?.clearCandidate();
  const fleet = createFleetApplier({
    logger,
    ...(journal ? { journal } : {}),
    // A worker that died within the candidate's crash window: NACKed like a crashed process.
    onCandidateCrash: (ref, issues) => control?.nackCandidate(ref, issues),
  });
  // What the control client, the cold start and the standalone file apply through: the fleet,
  // with this process's log level following the workers' after each generation.
  const served = followWorkerLogLevel(fleet, logger, () => fleet.workers(), ADMIN_ASK_MS);
  new Gauge({
    name: 'spooky_workers',
    help: 'Serving workers holding the current generation.',
    registers: [registry],
    collect() {
      this.set(fleet.workers().length);
    },
  });

  const loaded = settings.mode === 'standalone' ? await loadConfigFile(settings.configFile) : null;
  if (loaded !== null && !loaded.ok && settings.mode === 'standalone') {
    logger.fatal({ file: settings.configFile, issues: loaded.issues }, 'config file rejected');
    process.exit(1);
  }

  let draining = false;
  let coldStart: ColdStart | null = null;
  let control: ControlClient | null = null;
  let admin: AdminServer;
  try {
    admin = await startAdminServer(settings.admin.host, settings.admin.port, {
      applier: fleet,
      workers: () => workersView(fleet.workers(), ADMIN_ASK_MS),
      metrics: () => fleetMetrics(registry, fleet.workers(), ADMIN_ASK_MS),
      draining: () => draining,
      notServingReason: () => coldStart?.notServingReason() ?? null,
      logLevel: () => logger.level,
    });
  } catch (err) {
    logger.fatal({ err: (err as Error).message, admin: settings.admin }, 'admin server could not listen');
    process.exit(1);
  }

  const onStopping = (signal: string): void => {
    draining = true;
    logger.info({ signal }, 'data plane stopping');
    coldStart?.cancel();
    void control?.stop().catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'control client stop failed'));
  };
  const finish = (code: number): void => {
    // The drain finished: a restart now is not a crash of the candidate held (if any).
    const recorded = code === 0 ? (journal?.cleanStop() ?? Promise.resolve()) : Promise.resolve();
    void recorded.then(() => admin.close()).finally(() => {
      logger.info({ code }, 'data plane stopped');
      process.exit(code);
    });
  };

  let stopOnFailure: (code: number) => void;
  let started: Promise<void>;
  if (settings.supervise) {
    const supervisor = startSupervisor({
      argv,
      workers: settings.workers,
      logger,
      hardStopMs: settings.drainTimeoutMs + 10_000,
      admit: (worker, slot) => fleet.join(linkWorker(worker, slot)).then((r) => r.ok),
      onStopping,
      onCrash: () => restarts.inc(),
      finish,
    });
    started = supervisor.started;
    stopOnFailure = (code) => supervisor.stop('startup failure', code);
  } else {
    const worker = startServingWorker({
      slot: 0,
      logger,
      logDestination,
      logLevelFromFlag: settings.logLevelFromFlag,
      drainTimeoutMs: settings.drainTimeoutMs,
      drainTimeoutFromFlag: settings.drainTimeoutFromFlag,
      maxGenerationBytes: settings.maxGenerationBytes,
    });
    let stopping = false;
    const stop = (signal: string, code: number): void => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting without draining');
        process.exit(1);
      }
      stopping = true;
      onStopping(signal);
      const hardStop = setTimeout(() => {
        logger.error('shutdown did not finish in time');
        process.exit(1);
      }, worker.drainTimeoutMs() + 5_000);
      hardStop.unref();
      void worker.stop().then(() => finish(code));
    };
    process.on('SIGTERM', () => stop('SIGTERM', 0));
    process.on('SIGINT', () => stop('SIGINT', 0));
    started = fleet.join(localWorker(worker)).then(() => undefined);
    stopOnFailure = (code) => stop('startup failure', code);
  }
  logger.info({ admin: admin.url, bootId, mode: settings.mode, build: BUILD, workers: settings.workers }, 'data plane started');
  await started;

  if (settings.mode === 'standalone') {
    if (loaded === null || !loaded.ok) return;
    const result = await served.apply(loaded.payload, loaded.ref, 'local-file');
    // "generation rejected" is already logged with the issues (by the worker or the fleet).
    if (!result.ok) stopOnFailure(1);
    return;
  }

  // Every generation the control plane delivers and the workers apply is cached on disk; if the
  // control plane stays silent for the grace period, the cache is served instead
  // (cache/cold-start.ts). After a crash mid-apply the cache (the last good generation) is
  // served at once: waiting would only receive the push that killed the previous process.
  if (crashedOn !== null) {
    logger.warn({ seq: crashedOn.seq, digest: crashedOn.digest, startedAt: crashedOn.startedAt }, 'crashed while applying a generation');
  }
  const cache = createGenerationCache(settings.cacheDir);
  const caching = withGenerationCache(served, cache, logger);
  if (draining) return;
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
    health: canary.health,
    ...(controlTls && settings.controlTls
      ? {
          tls: controlTlsReader(settings.controlTls, controlTls, (reason) =>
            logger.warn({ reason }, 'control-plane TLS files unreadable; the previous certificate is used'),
          ),
        }
      : {}),
    counters: () => {
      let requestsTotal = 0;
      let inflight = 0;
      for (const w of fleet.workers()) {
        const c = w.counters();
        requestsTotal += c.requestsTotal;
        inflight += c.inflight;
      }
      return { requestsTotal, inflight };
    },
  });
  if (atStart.kind === 'fall-back' && candidateAtBoot !== null) {
    const { seq, digest, crashWindowMs } = candidateAtBoot;
    logger.warn({ seq, digest, sinceApplyMs: atStart.sinceApplyMs, crashWindowMs }, 'crashed soon after holding a candidate: serving the cached generation');
    control.nackCandidate({ scope: candidateAtBoot.scope, seq, digest }, [
      {
        pointer: '',
        code: 'canary.crashed',
        message: `the data plane restarted ${atStart.sinceApplyMs} ms after holding this candidate, within the crash window of ${crashWindowMs} ms, without a clean stop; it serves its previous generation`,
      },
    ]);
  }
  control.start();
  canary.useFallback(control);
  coldStart = startColdStart({
    applier: caching,
    cache,
    scope: settings.scope,
    graceMs: crashedOn !== null || atStart.kind === 'fall-back' ? 0 : settings.cacheGraceMs,
    maxAgeMs: settings.cacheMaxAgeMs,
    logger,
  });
}
