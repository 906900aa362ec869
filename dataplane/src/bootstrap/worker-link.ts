/**
 * The primary's WorkerHandle (apply/worker-handle.ts) for one cluster worker: requests over
 * the cluster IPC channel (worker-protocol.ts), each answered once, rejected when the worker
 * exits first (WorkerGoneError) or after its bound (WorkerTimeoutError).
 */
import type { Worker } from 'node:cluster';
import { type WorkerCounters, WorkerGoneError, type WorkerHandle, type WorkerStatus, WorkerTimeoutError } from '../apply/worker-handle.ts';
import type { ApplyResult } from '../control/generation-applier.ts';
import type { WorkerReply, WorkerRequest, WorkerToPrimary } from './worker-protocol.ts';

type RequestBody = WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, 'id'> : never) : never;

interface Pending {
  readonly resolve: (body: unknown) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export function linkWorker(worker: Worker, slot: number): WorkerHandle {
  const pid = worker.process.pid ?? -1;
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let last: WorkerCounters = { requestsTotal: 0, inflight: 0 };
  let isGone = false;
  let markGone: () => void = () => undefined;
  const gone = new Promise<void>((resolve) => {
    markGone = resolve;
  });

  worker.on('message', (m: WorkerToPrimary) => {
    if (typeof m !== 'object' || m === null) return;
    if (m.kind === 'counters') {
      last = { requestsTotal: m.requestsTotal, inflight: m.inflight };
      return;
    }
    if (m.kind !== 'reply') return;
    const p = pending.get((m as WorkerReply).id);
    if (p === undefined) return;
    pending.delete(m.id);
    clearTimeout(p.timer);
    if (m.ok) p.resolve(m.body);
    else p.reject(new Error(`worker ${pid}: ${m.error}`));
  });
  worker.once('exit', () => {
    isGone = true;
    for (const p of pending.values()) {
      clearTimeout(p.timer);
      p.reject(new WorkerGoneError(pid));
    }
    pending.clear();
    markGone();
  });

  const request = <T>(body: RequestBody, timeoutMs: number): Promise<T> => {
    if (isGone || !worker.isConnected()) return Promise.reject(new WorkerGoneError(pid));
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new WorkerTimeoutError(pid, body.kind, timeoutMs));
      }, timeoutMs);
      pending.set(id, { resolve: resolve as (b: unknown) => void, reject, timer });
      worker.send({ ...body, id }, (err: Error | null) => {
        if (err === null || !pending.has(id)) return;
        pending.delete(id);
        clearTimeout(timer);
        reject(isGone ? new WorkerGoneError(pid) : err);
      });
    });
  };

  return {
    slot,
    pid,
    gone,
    prepare: (payload, ref, source, timeoutMs, canary) =>
      request<ApplyResult>(
        { kind: 'prepare', ref, source, payload: Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'), ...(canary ? { canary } : {}) },
        timeoutMs,
      ),
    promote: (timeoutMs) => request<ApplyResult>({ kind: 'promote' }, timeoutMs),
    dropCandidate: (timeoutMs) => request<void>({ kind: 'drop-candidate' }, timeoutMs),
    commit: (timeoutMs) => request<void>({ kind: 'commit' }, timeoutMs),
    abort: (timeoutMs) => request<void>({ kind: 'abort' }, timeoutMs),
    status: (timeoutMs) => request<WorkerStatus>({ kind: 'status' }, timeoutMs),
    metrics: (timeoutMs) => request<object[]>({ kind: 'metrics' }, timeoutMs),
    counters: () => last,
    kill() {
      if (!isGone) worker.process.kill('SIGKILL');
    },
  };
}
