/**
 * A cluster worker's side of the IPC (worker-protocol.ts): answers the primary's requests with
 * the serving worker, reports its counters about once a second, and stops on the primary's
 * `shutdown` (drain) or when the channel to the primary is lost (the primary is gone: nobody
 * would restart or stop this process).
 *
 * Exit codes: 0 after a drain, 1 when the drain overran its bound + 5 s.
 * On `shutdown` it tells the primary its drain bound first ({kind: 'stopping', drainMs}: the
 * served generation's `shutdown_drain_timeout_ms` may exceed the flag the primary knows), so
 * the supervisor's own hard stop does not kill a worker that is still within it.
 * Log lines: "worker ready" {slot} once it takes requests; "worker stopping" {reason,
 * inflight, drainTimeoutMs}; "worker stopped".
 */
import type pino from 'pino';
import type { ServingWorker } from './serving-worker.ts';
import type { PrimaryToWorker, WorkerRequest, WorkerToPrimary } from './worker-protocol.ts';

const COUNTERS_EVERY_MS = 1_000;

export function serveOverIpc(worker: ServingWorker, slot: number, logger: pino.Logger): void {
  const send = (m: WorkerToPrimary): void => {
    if (process.connected) process.send?.(m);
  };
  const answer = async (req: WorkerRequest): Promise<unknown> => {
    switch (req.kind) {
      case 'prepare':
        return worker.prepare(Buffer.from(req.payload, 'utf8'), req.ref, req.source, req.canary);
      case 'promote':
        return worker.promote();
      case 'drop-candidate':
        return worker.dropCandidate();
      case 'commit':
        return worker.commit();
      case 'abort':
        return worker.abort();
      case 'status':
        return worker.status();
      case 'metrics':
        return worker.metrics();
    }
  };
  let stopping = false;
  const stop = async (reason: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    clearInterval(counters);
    const drainTimeoutMs = worker.drainTimeoutMs();
    send({ kind: 'stopping', drainMs: drainTimeoutMs });
    logger.info({ reason, inflight: worker.inflight(), drainTimeoutMs }, 'worker stopping');
    const hardStop = setTimeout(() => {
      logger.error('worker shutdown did not finish in time');
      process.exit(1);
    }, drainTimeoutMs + 5_000);
    hardStop.unref();
    await worker.stop();
    logger.info('worker stopped');
    process.exit(0);
  };
  process.on('message', (m: PrimaryToWorker) => {
    if (typeof m !== 'object' || m === null) return;
    if (m.kind === 'shutdown') {
      void stop(m.signal);
      return;
    }
    if (!['prepare', 'promote', 'drop-candidate', 'commit', 'abort', 'status', 'metrics'].includes(m.kind)) return;
    answer(m).then(
      (body) => send({ kind: 'reply', id: m.id, ok: true, body: body ?? null }),
      (err: unknown) => send({ kind: 'reply', id: m.id, ok: false, error: (err as Error).message }),
    );
  });
  process.on('disconnect', () => void stop('supervisor gone'));
  // Signals go to the primary, which asks over IPC; a terminal's SIGINT reaches the whole
  // process group, so the worker ignores signals rather than counting one twice.
  process.on('SIGINT', () => undefined);
  // The primary's second signal arrives as SIGTERM: exit at once (1) when already draining.
  process.on('SIGTERM', () => (stopping ? process.exit(1) : void stop('SIGTERM')));
  const counters = setInterval(() => send({ kind: 'counters', ...worker.counters() }), COUNTERS_EVERY_MS);
  counters.unref();
  send({ kind: 'ready' });
  logger.info({ slot }, 'worker ready');
}
