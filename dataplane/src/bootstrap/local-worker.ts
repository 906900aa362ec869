/**
 * `--no-supervise`: the serving worker runs in the primary's own process and this
 * WorkerHandle calls it directly, so the primary's code (admin, control client, disk cache,
 * fleet applier) is the same with and without workers. Never gone, never times out.
 */
import type { WorkerHandle } from '../apply/worker-handle.ts';
import type { ServingWorker } from './serving-worker.ts';

export function localWorker(worker: ServingWorker): WorkerHandle {
  return {
    slot: 0,
    pid: process.pid,
    gone: new Promise<void>(() => undefined),
    prepare: (payload, ref, source, _timeoutMs, canary) => worker.prepare(payload, ref, source, canary),
    promote: () => worker.promote(),
    dropCandidate: () => worker.dropCandidate(),
    commit: async () => worker.commit(),
    abort: () => worker.abort(),
    status: async () => worker.status(),
    metrics: () => worker.metrics(),
    counters: () => worker.counters(),
    kill: () => undefined,
  };
}
