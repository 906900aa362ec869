/**
 * What the fleet applier (fleet-applier.ts) and the primary's admin see of one serving worker:
 * a cluster worker reached over IPC (bootstrap/worker-link.ts) or, with `--no-supervise`, the
 * serving code in this very process (bootstrap/local-worker.ts). Every request settles: it
 * rejects with WorkerGoneError when the worker exits (or is killed) before answering, and with
 * WorkerTimeoutError when it does not answer within the request's bound.
 */
import type { ApplyResult, GenerationRef, ServingInfo, ServingSource } from '../control/generation-applier.ts';
import type { ListenerInfo } from '../ingress/listener-manager.ts';
import type { CanaryAssignment } from '../rollout/in-node-canary.ts';

/** One worker's answer to a status request. */
export interface WorkerStatus {
  readonly serving: ServingInfo | null;
  readonly listeners: readonly ListenerInfo[];
  /** Why the served generation cannot serve in this worker (every backend unhealthy), or null. */
  readonly healthUnreadyReason: string | null;
  /** The level this worker logs at now (the served generation's `log.level`, or the pinned flag). */
  readonly logLevel: string;
}

export interface WorkerCounters {
  readonly requestsTotal: number;
  readonly inflight: number;
}

export interface WorkerHandle {
  /** The worker's stable slot, 0..workers-1: a replacement takes the slot of the worker it replaces. */
  readonly slot: number;
  readonly pid: number;
  /**
   * First phase of an apply (parse, budget, compile, listeners opened, no swap). With `canary`
   * the commit holds it as the candidate instead of swapping it in.
   */
  prepare(payload: Uint8Array, ref: GenerationRef, source: ServingSource, timeoutMs: number, canary?: CanaryAssignment): Promise<ApplyResult>;
  /** The held candidate serves fully (ServingApplier.promote). */
  promote(timeoutMs: number): Promise<ApplyResult>;
  /** Drops the held candidate; a no-op when none. */
  dropCandidate(timeoutMs: number): Promise<void>;
  /** Swaps in (or holds, see prepare) what the last successful prepare built. */
  commit(timeoutMs: number): Promise<void>;
  /** Drops what the last successful prepare built; the served generation stays. */
  abort(timeoutMs: number): Promise<void>;
  status(timeoutMs: number): Promise<WorkerStatus>;
  /** The worker registry's `getMetricsAsJSON()` (prom-client), for AggregatorRegistry.aggregate. */
  metrics(timeoutMs: number): Promise<object[]>;
  /** Last counters the worker reported (about once a second); zeros before the first. */
  counters(): WorkerCounters;
  /** Ends a worker whose state is unknown (it stopped answering): SIGKILL. */
  kill(): void;
  /** Settles once the worker is gone. */
  readonly gone: Promise<void>;
}

export class WorkerGoneError extends Error {
  constructor(pid: number) {
    super(`worker ${pid} exited before answering`);
    this.name = 'WorkerGoneError';
  }
}

export class WorkerTimeoutError extends Error {
  constructor(pid: number, what: string, ms: number) {
    super(`worker ${pid} did not answer ${what} within ${ms} ms`);
    this.name = 'WorkerTimeoutError';
  }
}
