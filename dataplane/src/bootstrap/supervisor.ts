/**
 * The data plane's supervisor: the `node:cluster` side of the primary (bootstrap/primary.ts).
 * It forks `workers` serving processes (main.ts run again as cluster workers, each with a
 * stable slot 0..workers-1 in SPOOKY_WORKER_SLOT) and keeps that many running.
 *
 * - A worker says {kind: 'ready'} over IPC once it takes requests; `admit(worker, slot)` (the
 *   primary: the fleet applier brings it to the served generation) decides when it serves.
 *   `started` resolves once every initial slot has an admitted worker. If a worker exits before
 *   any worker was ever admitted, that is a startup failure: the supervisor stops the others
 *   and finishes with the worker's code (1 when none), no restart loop. Bad flags never get
 *   here (main.ts exits 2 before forking).
 * - A worker that exits unasked after that (crash, out of memory, killed) is replaced after a
 *   backoff, in the same slot; the 5th such exit within 60 s ends the supervisor with exit 1
 *   (crash-window.ts).
 * - SIGTERM / SIGINT: `onStopping` runs, then each worker is asked over IPC to drain and stop
 *   (IPC, not a signal, so the SIGINT a terminal also delivers to the worker does not count as
 *   a second signal); `finish` runs with the workers' code once all are gone (0 after a clean
 *   drain). A second signal is forwarded as SIGTERM (the worker then exits at once, code 1). A
 *   worker still alive `hardStopMs` after the first signal is killed; exit 1. A worker that
 *   announces a longer drain ({kind: 'stopping', drainMs}: its generation's
 *   `shutdown_drain_timeout_ms`) pushes that bound to drainMs + 10 s from its announcement.
 * - Listen handles: the HTTP/3 library opens its own UDP sockets with SO_REUSEPORT in every
 *   worker (the kernel spreads datagrams by 4-tuple hash); the TLS TCP fallback listener is a
 *   node:net server, shared through this primary by node:cluster. SCHED_NONE: the workers
 *   accept TCP connections themselves (no hop through the primary).
 *
 * Log lines (pino, component "supervisor"): "supervisor started" {workers}, "worker started"
 * {workerPid, slot}, "worker draining" {workerPid, slot, drainMs}, "worker exited" {workerPid,
 * slot, code, signal, restartInMs?}, "worker failed to start" {workerPid, code}, "crash loop:
 * giving up" {crashes, windowMs}.
 */
import cluster, { type Worker } from 'node:cluster';
import type pino from 'pino';
import { CrashWindow, MAX_CRASHES, WINDOW_MS } from './crash-window.ts';
import { type PrimaryToWorker, WORKER_SLOT_ENV, type WorkerToPrimary } from './worker-protocol.ts';

export interface SupervisorOptions {
  readonly argv: readonly string[];
  readonly workers: number;
  readonly logger: pino.Logger;
  /** How long after the first signal workers may take to stop before they are killed. */
  readonly hardStopMs: number;
  /** A worker said ready; resolves true once it serves (false: it was refused, or died). */
  readonly admit: (worker: Worker, slot: number) => Promise<boolean>;
  /** The first signal arrived (before the workers are asked to stop). */
  readonly onStopping: (signal: string) => void;
  /** A worker exited unasked after the start (counted for metrics). */
  readonly onCrash?: () => void;
  /** Every worker is gone; `code` is the process exit code. */
  readonly finish: (code: number) => void;
}

export interface Supervisor {
  /** Resolves once every initial slot has an admitted worker (never, after a startup failure). */
  readonly started: Promise<void>;
  /** Stops as the first signal would (used after a fatal startup problem of the primary). */
  stop(reason: string, code: number): void;
}

export function startSupervisor(opts: SupervisorOptions): Supervisor {
  const log = opts.logger.child({ component: 'supervisor' });
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  cluster.setupPrimary({ args: [...opts.argv] });

  const crashes = new CrashWindow();
  const live = new Set<Worker>();
  const admittedSlots = new Set<number>();
  let markStarted: () => void = () => undefined;
  const started = new Promise<void>((resolve) => {
    markStarted = resolve;
  });
  let everReady = false;
  let stopping = false;
  let finished = false;
  let exitCode = 0;
  let restartTimers = new Set<NodeJS.Timeout>();

  const finish = (code: number): void => {
    if (finished) return;
    finished = true;
    opts.finish(code);
  };

  const fork = (slot: number): void => {
    const worker = cluster.fork({ [WORKER_SLOT_ENV]: String(slot) });
    live.add(worker);
    let ready = false;
    const pid = worker.process.pid;
    log.info({ workerPid: pid, workerId: worker.id, slot }, 'worker started');
    worker.on('message', (m: WorkerToPrimary) => {
      if (m?.kind === 'stopping' && stopping && Number.isFinite(m.drainMs)) {
        log.info({ workerPid: pid, slot, drainMs: m.drainMs }, 'worker draining');
        extendHardStop(m.drainMs + 10_000);
      }
      if (m?.kind !== 'ready' || stopping) return;
      void opts.admit(worker, slot).then((ok) => {
        if (!ok) return;
        ready = true;
        everReady = true;
        admittedSlots.add(slot);
        if (admittedSlots.size >= opts.workers) markStarted();
      });
    });
    // 'exit' follows 'error' for a worker that could not be spawned, so one handler suffices.
    worker.on('error', (err) => log.warn({ workerPid: pid, err: err.message }, 'worker channel error'));
    worker.on('exit', (code: number | null, signal: string | null) => {
      live.delete(worker);
      const clean = code === 0 && signal === null;
      if (stopping) {
        if (!clean) exitCode = 1;
        log.info({ workerPid: pid, slot, code, signal }, 'worker exited');
        if (live.size === 0) finish(exitCode);
        return;
      }
      if (!ready && !everReady) {
        exitCode = code === null || code === 0 ? 1 : code;
        log.error({ workerPid: pid, code, signal }, 'worker failed to start');
        stopAll('startup failure');
        if (live.size === 0) finish(exitCode);
        return;
      }
      opts.onCrash?.();
      const verdict = crashes.record(Date.now());
      if (verdict.kind === 'give-up') {
        log.error({ workerPid: pid, code, signal, crashes: verdict.recent, windowMs: WINDOW_MS }, 'crash loop: giving up');
        exitCode = 1;
        stopAll('crash loop');
        if (live.size === 0) finish(1);
        return;
      }
      log.warn({ workerPid: pid, slot, code, signal, restartInMs: verdict.delayMs, recentExits: verdict.recent, maxExits: MAX_CRASHES }, 'worker exited');
      const timer = setTimeout(() => {
        restartTimers.delete(timer);
        if (!stopping) fork(slot);
      }, verdict.delayMs);
      restartTimers.add(timer);
    });
  };

  /** Asks every worker to drain and stop; later exits are counted against `exitCode`. */
  const stopAll = (signal: string): void => {
    if (!stopping) opts.onStopping(signal);
    stopping = true;
    for (const t of restartTimers) clearTimeout(t);
    restartTimers = new Set();
    for (const w of live) {
      if (w.isConnected()) w.send({ kind: 'shutdown', signal } satisfies PrimaryToWorker);
      else w.process.kill('SIGTERM');
    }
    extendHardStop(opts.hardStopMs);
  };

  let hardStop: NodeJS.Timeout | null = null;
  let hardStopAt = 0;
  /** (Re)arms the kill of every live worker `ms` from now, unless one is already due later. */
  const extendHardStop = (ms: number): void => {
    const at = Date.now() + ms;
    if (hardStop !== null && at <= hardStopAt) return;
    if (hardStop !== null) clearTimeout(hardStop);
    hardStopAt = at;
    hardStop = setTimeout(() => {
      log.error({ workers: live.size }, 'workers did not stop in time: killing them');
      for (const w of live) w.process.kill('SIGKILL');
      exitCode = 1;
    }, ms);
    hardStop.unref();
  };

  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.warn({ signal }, 'second signal: workers stop without draining');
      for (const w of live) w.process.kill('SIGTERM');
      return;
    }
    log.info({ signal, workers: live.size }, 'supervisor stopping');
    stopAll(signal);
    if (live.size === 0) finish(0);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  log.info({ workers: opts.workers }, 'supervisor started');
  for (let slot = 0; slot < opts.workers; slot++) fork(slot);
  return {
    started,
    stop(reason, code) {
      exitCode = code;
      if (!stopping) stopAll(reason);
      if (live.size === 0) finish(code);
    },
  };
}
