/**
 * Messages between the orchestrator and its load generator processes (node IPC). One job at a
 * time per generator: `prepare` (open the connections) → `ready` → `go` (the shared schedule,
 * epoch ms) → `result`. Anything that goes wrong inside a job is counted in `errors` by kind;
 * `failed` means the generator itself broke.
 */
import type { HistogramJson } from './latency-histogram.ts';
import type { Workload } from './workloads.ts';

export interface PrepareMessage {
  readonly type: 'prepare';
  readonly jobId: number;
  readonly port: number;
  /** `:authority` sent (and the TLS server name's host part). */
  readonly authority: string;
  readonly workload: Workload;
  /** This generator's share of the connections. */
  readonly connections: number;
  /** Closed loop: requests kept in flight per connection. 0 = open loop at `ratePerSec`. */
  readonly streams: number;
  /** Open loop: this generator's share of the offered rate. */
  readonly ratePerSec: number;
  /** A request not finished after this long is destroyed and counted as `timeout`. */
  readonly requestTimeoutMs: number;
}

export interface GoMessage {
  readonly type: 'go';
  readonly jobId: number;
  /** Load starts here (warm-up) … */
  readonly startAtMs: number;
  /** … and is measured from here … */
  readonly measureFromMs: number;
  /** … to here, where no new request is sent. */
  readonly measureToMs: number;
  /** How long in-flight requests may still finish after measureToMs. */
  readonly drainMs: number;
}

export type OrchestratorMessage = PrepareMessage | GoMessage | { readonly type: 'exit' };

export interface ReadyMessage {
  readonly type: 'ready';
  readonly jobId: number;
  readonly connected: number;
}

export interface JobResult {
  /**
   * Successful responses completed inside [measureFrom, measureTo): the req/s numerator and
   * the CPU-per-request denominator.
   */
  readonly completed: number;
  /** Response body bytes of those responses. */
  readonly bytes: number;
  /**
   * Latencies: closed loop, of the requests completed in the window, from their send; open
   * loop, of the requests *scheduled* in the window, from their scheduled send time
   * (coordinated-omission free), however late they finished.
   */
  readonly latency: HistogramJson;
  /** Errors over the whole job (warm-up included) by kind: `status:503`, `timeout`, `connect`, … */
  readonly errors: Readonly<Record<string, number>>;
  /** Open loop: requests scheduled in the window, those of them answered successfully, and how late the generator sent them. */
  readonly offered: number;
  readonly served: number;
  readonly sendLagP99Ms: number;
  readonly sendLagMaxMs: number;
}

export interface ResultMessage extends JobResult {
  readonly type: 'result';
  readonly jobId: number;
}

export interface FailedMessage {
  readonly type: 'failed';
  readonly jobId: number;
  readonly error: string;
}

export type GeneratorMessage = ReadyMessage | ResultMessage | FailedMessage;
