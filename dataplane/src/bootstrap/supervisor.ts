/**
 * The data plane's supervisor: the `node:cluster` primary. It serves nothing itself; it forks
 * `workers` serving processes (main.ts run again as cluster workers; one today, `--workers N`
 * later) and keeps that many running.
 *
 * - Startup: a worker says {kind: 'ready'} over IPC once it serves (admin bound; standalone:
 *   config applied; control-plane mode: control client started). If a worker exits before any
 *   worker was ever ready, that is a startup failure (admin port busy, standalone config
 *   rejected, …): the supervisor exits with the worker's code, no restart loop. Bad flags never
 *   get here (main.ts exits 2 before forking).
 * - A worker that exits unasked after that (crash, out of memory, killed) is replaced after a
 *   backoff; the 5th such exit within 60 s ends the supervisor with exit 1 (crash-window.ts).
 * - SIGTERM / SIGINT: each worker is asked over IPC to drain and stop (IPC, not a signal, so
 *   the SIGINT a terminal also delivers to the worker does not count as a second signal); the
 *   supervisor exits with the workers' code once all are gone (0 after a clean drain). A second
 *   signal is forwarded as SIGTERM (the worker then exits at once, code 1). A worker still
 *   alive `hardStopMs` after the first signal is killed; exit 1.
 * - `--admin HOST:0`: the port is chosen once here and every worker (and every replacement)
 *   gets `--admin HOST:PORT`, so the admin address survives restarts. Listen handles are shared
 *   through the primary (cluster); SCHED_NONE lets workers accept themselves (no primary hop).
 *
 * Log lines (pino, component "supervisor"): "supervisor started" {workers}, "worker started"
 * {workerPid}, "worker exited" {workerPid, code, signal, restartInMs?}, "worker failed to
 * start" {workerPid, code}, "crash loop: giving up" {crashes, windowMs}, "supervisor stopped"
 * {code}. Workers log "data plane started" etc. themselves, on the same stdout.
 */
import cluster, { type Worker } from 'node:cluster';
import { createServer } from 'node:net';
import type pino from 'pino';
import { CrashWindow, MAX_CRASHES, WINDOW_MS } from './crash-window.ts';
import type { HostPort } from './flags.ts';

export type PrimaryToWorker = { readonly kind: 'shutdown'; readonly signal: string };
export type WorkerToPrimary = { readonly kind: 'ready' };

export interface SupervisorOptions {
  readonly argv: readonly string[];
  readonly admin: HostPort;
  readonly workers: number;
  readonly logger: pino.Logger;
  /** How long after the first signal workers may take to stop before they are killed. */
  readonly hardStopMs: number;
}

export async function runSupervisor(opts: SupervisorOptions): Promise<void> {
  const log = opts.logger.child({ component: 'supervisor' });
  const admin = opts.admin.port === 0 ? { host: opts.admin.host, port: await pickPort(opts.admin.host) } : opts.admin;
  const adminText = admin.host.includes(':') ? `[${admin.host}]:${admin.port}` : `${admin.host}:${admin.port}`;
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  // parseArgs keeps the last value of a repeated flag: the pinned admin address wins.
  cluster.setupPrimary({ args: [...opts.argv, '--admin', adminText] });

  const crashes = new CrashWindow();
  const live = new Set<Worker>();
  let everReady = false;
  let stopping = false;
  let exitCode = 0;
  let restartTimers = new Set<NodeJS.Timeout>();

  const finish = (code: number): never => {
    log.info({ code }, 'supervisor stopped');
    process.exit(code);
  };

  const fork = (): void => {
    const worker = cluster.fork();
    live.add(worker);
    let ready = false;
    const pid = worker.process.pid;
    log.info({ workerPid: pid, workerId: worker.id }, 'worker started');
    worker.on('message', (m: WorkerToPrimary) => {
      if (m?.kind !== 'ready') return;
      ready = true;
      everReady = true;
    });
    // 'exit' follows 'error' for a worker that could not be spawned, so one handler suffices.
    worker.on('error', (err) => log.warn({ workerPid: pid, err: err.message }, 'worker channel error'));
    worker.on('exit', (code: number | null, signal: string | null) => {
      live.delete(worker);
      const clean = code === 0 && signal === null;
      if (stopping) {
        if (!clean) exitCode = 1;
        log.info({ workerPid: pid, code, signal }, 'worker exited');
        if (live.size === 0) finish(exitCode);
        return;
      }
      if (!ready && !everReady) {
        exitCode = code ?? 1;
        log.error({ workerPid: pid, code, signal }, 'worker failed to start');
        stopAll('startup failure');
        if (live.size === 0) finish(exitCode);
        return;
      }
      const verdict = crashes.record(Date.now());
      if (verdict.kind === 'give-up') {
        log.error({ workerPid: pid, code, signal, crashes: verdict.recent, windowMs: WINDOW_MS }, 'crash loop: giving up');
        exitCode = 1;
        stopAll('crash loop');
        if (live.size === 0) finish(1);
        return;
      }
      log.warn({ workerPid: pid, code, signal, restartInMs: verdict.delayMs, recentExits: verdict.recent, maxExits: MAX_CRASHES }, 'worker exited');
      const timer = setTimeout(() => {
        restartTimers.delete(timer);
        if (!stopping) fork();
      }, verdict.delayMs);
      restartTimers.add(timer);
    });
  };

  /** Asks every worker to drain and stop; later exits are counted against `exitCode`. */
  const stopAll = (signal: string): void => {
    stopping = true;
    for (const t of restartTimers) clearTimeout(t);
    restartTimers = new Set();
    for (const w of live) {
      if (w.isConnected()) w.send({ kind: 'shutdown', signal } satisfies PrimaryToWorker);
      else w.process.kill('SIGTERM');
    }
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
    const hardStop = setTimeout(() => {
      log.error({ workers: live.size }, 'workers did not stop in time: killing them');
      for (const w of live) w.process.kill('SIGKILL');
      exitCode = 1;
    }, opts.hardStopMs);
    hardStop.unref();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  log.info({ workers: opts.workers, admin: adminText }, 'supervisor started');
  for (let i = 0; i < opts.workers; i++) fork();
}

/** A free TCP port on `host`, chosen by the kernel (bind port 0, read it, close). */
function pickPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
