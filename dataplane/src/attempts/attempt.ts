/**
 * Attempt: one try of a request against one backend (Envoy's per-try UpstreamRequest), the
 * unit of work of the attempt loop. It begins when it is dispatched and ends exactly once
 * (`end`), and that one end is the only place a try's result leaves it:
 *  - BackendStats (least-connections / latency-aware balancing): `begin` at dispatch, a
 *    latency sample at the head (`headArrived`; 5xx not sampled), a failure sample when it
 *    failed before any head (not for our own cancellations), `end`;
 *  - passive health (`reportTraffic`): the head's status, or the error code before a head;
 *  - the circuit breaker: the permit taken at dispatch is released with the try's verdict;
 *  - the backend in-flight permit (when one was taken) is returned.
 * The retry budget counts dispatches (the loop's `recordPrimary` / `recordRetry`), not ends.
 *
 * It also knows whether any request byte was written (`requestSent`, Pingora's
 * fail_to_connect vs error_while_proxy), whether a response head arrived, counts its bytes
 * both ways, and owns its cancellation (`controller`; the request's abort reaches it from the
 * context, which aborts every open try in `ctx.attempts`: no listener per try).
 */

import { type SpookyError, SpookyError as SpookyErrorClass } from '../errors.ts';
import type { HealthView } from '../health/health-monitor.ts';
import type { BodyConsumer, UpstreamResponse } from '../http/backend-transport.ts';
import { Cancellation, type CancelSignal } from '../http/cancellation.ts';
import { type BreakerPermit, type BreakerVerdict, breakerVerdict } from '../resilience/circuit-breaker.ts';
import type { InflightGauge } from '../resilience/inflight-limiter.ts';
import type { RouteQueue } from '../resilience/route-queue.ts';
import type { CompiledBackend } from '../runtime/generation.ts';
import type { AttemptSpan } from '../tracing/request-spans.ts';
import type { BodyWatch } from './body-idle-watch.ts';

/** Errors that are ours (client gone, deadline, client body limits): they say nothing about the backend. */
const OUR_CANCELLATIONS: ReadonlySet<string> = new Set(['client_aborted', 'request_timeout', 'body_too_large', 'client_body_timeout']);

export class Attempt {
  /** 0 for the first try. */
  readonly index: number;
  readonly upstream: string;
  readonly backendIndex: number;
  readonly backend: CompiledBackend;
  /** performance.now() at dispatch. */
  readonly startedAt: number;
  /** Cancels this try only (retried status, lost hedge); the request's abort also reaches it. */
  readonly controller = new Cancellation();
  /** performance.now() when the response head arrived; null while waiting or when it failed. */
  headersAt: number | null = null;
  /** The response head's status, null before / without one. */
  status: number | null = null;
  /** Set when the try ended with a failure (before or after the head). */
  error: SpookyError | null = null;
  /** Any request byte was written to a connection (undici started the request). */
  requestSent = false;
  bytesSent = 0;
  bytesReceived = 0;
  /** The client-body idle bound while this try sends a body; stopped when the try ends. */
  bodyWatch: BodyWatch | null = null;
  /** This try's span when the request's generation exports spans (set at dispatch); ended with the try. */
  span: AttemptSpan | null = null;
  #ended = false;
  readonly #permit: BreakerPermit;
  readonly #count5xx: boolean;
  readonly #health: HealthView;
  readonly #backendPermit: InflightGauge | null;
  readonly #queue: RouteQueue<() => void>;

  constructor(init: {
    readonly index: number;
    readonly upstream: string;
    readonly backendIndex: number;
    readonly backend: CompiledBackend;
    readonly permit: BreakerPermit;
    readonly count5xx: boolean;
    readonly health: HealthView;
    readonly backendPermit: InflightGauge | null;
    /** Woken (oldest waiter of this upstream) when the backend permit is returned. */
    readonly queue: RouteQueue<() => void>;
    /** Already aborted → this try starts aborted; later aborts come from the context (see above). */
    readonly requestSignal: CancelSignal;
  }) {
    this.index = init.index;
    this.upstream = init.upstream;
    this.backendIndex = init.backendIndex;
    this.backend = init.backend;
    this.#permit = init.permit;
    this.#count5xx = init.count5xx;
    this.#health = init.health;
    this.#backendPermit = init.backendPermit;
    this.#queue = init.queue;
    this.startedAt = performance.now();
    const signal = init.requestSignal;
    if (signal.aborted) this.controller.abort(signal.reason);
    init.backend.stats.begin();
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** The response head arrived (a latency sample for the balancer). */
  headArrived(status: number): void {
    this.headersAt = performance.now();
    this.status = status;
    this.backend.stats.recordHead(status, this.headersAt - this.startedAt);
  }

  /** The try is over: `error` null when the response (if any) completed. Idempotent: only the first call counts. */
  end(error: SpookyError | null): void {
    if (this.#ended) return;
    this.#ended = true;
    this.bodyWatch?.stop();
    if (error !== null) this.error ??= error;
    const ours = error !== null && OUR_CANCELLATIONS.has(error.code);
    const now = performance.now();
    const stats = this.backend.stats;
    if (this.status === null && error !== null && !ours) stats.recordFailure(now - this.startedAt);
    stats.end();
    if (this.#backendPermit !== null) {
      this.#backendPermit.release();
      this.#queue.shift(this.upstream)?.();
    }
    // Passive health: the head's status when one arrived, else the failure's code.
    if (this.status !== null) this.#health.reportTraffic(this.upstream, this.backend.address, { kind: 'response', status: this.status });
    else if (error !== null) this.#health.reportTraffic(this.upstream, this.backend.address, { kind: 'error', code: error.code });
    this.backend.breaker.release(this.#permit, this.verdict(error, ours), now);
    if (this.span !== null) this.span.end(this.status, this.error?.code ?? null);
  }

  /** The breaker's reading of this try. */
  verdict(error: SpookyError | null, ours: boolean): BreakerVerdict {
    if (ours) return 'neutral';
    return breakerVerdict({ failure: this.status === null && error !== null ? error.code : null, status: this.status, clientAborted: false }, this.#count5xx);
  }

  /**
   * The response, wrapped so that its end (body complete, failed, or cancelled) ends this try
   * and received bytes are counted. The loop relays (or drains) the wrapped response only.
   */
  wrap(response: UpstreamResponse): UpstreamResponse {
    return {
      status: response.status,
      headers: response.headers,
      stream: (consumer: BodyConsumer): void => {
        response.stream({
          data: (chunk) => {
            this.bytesReceived += chunk.byteLength;
            return consumer.data(chunk);
          },
          end: (trailers) => {
            this.end(null);
            consumer.end(trailers);
          },
          error: (err) => {
            this.end(err instanceof SpookyErrorClass ? err : new SpookyErrorClass('upstream_reset', 'response body failed', { cause: err }));
            consumer.error(err);
          },
        });
      },
      resume: () => response.resume(),
      abort: (): void => {
        this.end(null);
        response.abort();
      },
    };
  }
}
