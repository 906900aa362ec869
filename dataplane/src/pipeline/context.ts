/**
 * RequestContext: everything one request carries through the stages. Created by the runner at
 * accept time with the generation pinned (a request never sees two generations). Stages read
 * and fill it; only the runner and recordOutcome turn it into telemetry.
 */

import type { Attempt } from '../attempts/attempt.ts';
import { SpookyError } from '../errors.ts';
import type { UpstreamResponse } from '../http/backend-transport.ts';
import { Cancellation, type CancelSignal } from '../http/cancellation.ts';
import type { Exchange } from '../http/exchange.ts';
import type { HedgeResult } from '../resilience/hedge-results.ts';
import type { RouteEntry } from '../routing/route-table.ts';
import type { CompiledUpstream, Generation } from '../runtime/generation.ts';
import type { RequestSpan } from '../tracing/request-spans.ts';
import { type Deadline, requestDeadlines } from './deadline-queue.ts';

/** Rust-Spooky compatibility switches (all off by default). */
export interface CompatOptions {
  /** Status for `no_route` (ours 404; Rust 502). */
  readonly noRouteStatus?: number;
  /** Status for `upstream_timeout` (ours 504; Rust 503). */
  readonly upstreamTimeoutStatus?: number;
}

export interface RequestContext {
  readonly exchange: Exchange;
  readonly generation: Generation;
  readonly requestId: string;
  /** performance.now() at accept. */
  readonly startedAt: number;
  /**
   * Aborted when the client goes away (reason: not a SpookyError), when the whole-request
   * deadline passes (reason: SpookyError request_timeout), or by the runner.
   * `exchange.signal` alone tells whether the client went away. The deadline is
   * `performance.request_timeout_ms` from accept, moved to the target upstream's own
   * `timeouts.request_timeout_ms` (still from accept) once routing picked it
   * (`useUpstreamDeadline`).
   */
  readonly signal: CancelSignal;
  /** The whole-request deadline (null when the client was gone at accept); context.ts owns it. */
  deadline: Deadline | null;
  /** Cancels the deadline and stops listening to the client; the runner calls it once the request is finished. */
  readonly release: () => void;
  /**
   * The runner's last call: `release` at once when the response stream is done, else when it
   * becomes done — until then the deadline stays armed, and when it passes the stream is
   * reset (a client that stopped reading after the upstream finished holds its connection
   * and the unsent bytes no longer than `request_timeout_ms`).
   */
  readonly releaseWhenDelivered: () => void;
  /** Normalised request host (set by screenRequest), null when the request named none. */
  host: string | null;
  /** Path used for routing (set by resolveRoute). */
  matchPath: string;
  /** The matched route (set by resolveRoute); `route.upstream` names it in metrics and logs. */
  route: RouteEntry | null;
  /** The target upstream whose backends serve the request: the route's own or its traffic_split pick. */
  upstream: CompiledUpstream | null;
  /** Every try so far, in dispatch order. The request's abort (client gone, deadline) aborts each open one. */
  readonly attempts: Attempt[];
  /** The attempt whose response is relayed, and that response (set by runAttempts). */
  winner: Attempt | null;
  response: UpstreamResponse | null;
  /** Final status sent (or that would have been sent) and closed-vocabulary outcome. */
  status: number;
  outcome: string;
  bytesIn: number;
  bytesOut: number;
  /** The last retry refusal (decideRetry's reason) of this request, null when none was asked or it retried. */
  retryRefusal: string | null;
  /** The SHED_REASONS value when the request was shed with 503. */
  shed: string | null;
  /** How hedging went (HEDGE_RESULTS) when the hedge delay passed; null when it never did. */
  hedge: HedgeResult | null;
  /** The scoped rate-limit rule that refused (`enforce`) or would have refused (`shadow`) the request. */
  rateLimitRule: string | null;
  rateLimitMode: 'enforce' | 'shadow' | null;
  /** The trace id sent upstream (set by runAttempts when tracing is on), null before or without one. */
  traceId: string | null;
  /** The request's span when the generation exports spans (tracing/request-spans.ts), else null; the runner starts and ends it. */
  trace: RequestSpan | null;
  /**
   * Registers cleanup (admission permits, rate-limit tokens, replay buffers) for when the
   * request is finished: the runner runs every registered function exactly once, in reverse
   * order, after the stages and before recordOutcome, whatever happened.
   */
  defer(fn: () => void): void;
  /** Registered cleanups (runner-owned; null until the first defer). */
  deferred: (() => void)[] | null;
}

/**
 * One Cancellation per request (http/cancellation.ts: no EventTarget, no `AbortSignal.any`
 * chain, no timer of its own): the client's abort is forwarded to it by one listener, the
 * deadline comes from the shared deadline queue (deadline-queue.ts). Measured on small GETs:
 * an AbortController per request and per try with their listeners ≈ 2 KB of heap and ≈ 5 µs;
 * before that, the composite signal plus a
 * timer per request cost ~15–26 µs of CPU per request.
 */
export function createContext(exchange: Exchange, generation: Generation, requestId: string, startedAt: number): RequestContext {
  const controller = new Cancellation();
  const clientSignal = exchange.signal;
  const attempts: Attempt[] = [];
  // The request's abort reaches its open tries directly (no listener per try on the signal).
  const abortRequest = (reason: unknown): void => {
    if (controller.signal.aborted) return;
    controller.abort(reason);
    for (const attempt of attempts) if (!attempt.ended && !attempt.controller.signal.aborted) attempt.controller.abort(reason);
  };
  const onClientAbort = (): void => abortRequest(clientSignal.reason);
  let deadline: Deadline | null = null;
  /** Set once the stages are over and the response stream is not done yet. */
  let lingering = false;
  if (clientSignal.aborted) controller.abort(clientSignal.reason);
  else {
    clientSignal.addEventListener('abort', onClientAbort, { once: true });
    deadline = requestDeadlines.add(generation.config.performance.request_timeout_ms, () => {
      abortRequest(new SpookyError('request_timeout', 'whole-request deadline passed'));
      if (lingering) exchange.response.abort('internal');
    });
  }
  const release = (): void => {
    ctx.deadline?.cancel();
    clientSignal.removeEventListener('abort', onClientAbort);
  };
  const ctx: RequestContext = {
    exchange,
    generation,
    requestId,
    startedAt,
    signal: controller.signal,
    deadline,
    release,
    releaseWhenDelivered: () => {
      const sink = exchange.response;
      if (sink.done || ctx.deadline === null) release();
      else {
        lingering = true;
        sink.whenDone(release);
      }
    },
    host: null,
    matchPath: '',
    route: null,
    upstream: null,
    attempts,
    winner: null,
    response: null,
    status: 0,
    outcome: 'ok',
    bytesIn: 0,
    bytesOut: 0,
    retryRefusal: null,
    shed: null,
    hedge: null,
    rateLimitRule: null,
    rateLimitMode: null,
    traceId: null,
    trace: null,
    deferred: null,
    defer(fn: () => void): void {
      if (this.deferred === null) this.deferred = [fn];
      else this.deferred.push(fn);
    },
  };
  return ctx;
}

/**
 * The request now targets `upstream`: when its resolved `request_timeout_ms` differs from the
 * generation's (an `upstream.<name>.timeouts` override), the deadline is moved to it, still
 * counted from accept. Costs nothing for upstreams without an override (one comparison); an
 * override costs one deadline entry more. Routing runs synchronously right after accept, so
 * moved deadlines join their list in accept order (deadline-queue.ts).
 */
export function useUpstreamDeadline(ctx: RequestContext, upstream: CompiledUpstream): void {
  const timeoutMs = upstream.policy.timeouts.request_timeout_ms;
  if (ctx.deadline === null || timeoutMs === ctx.generation.config.performance.request_timeout_ms) return;
  ctx.deadline = requestDeadlines.retime(ctx.deadline, timeoutMs, ctx.startedAt);
}
