/**
 * The pipeline runner: one call per exchange. Pins a generation at accept time (the serving
 * one, or the in-node canary's candidate for its share of clients: GenerationStore.pick),
 * runs THE stage list in order, funnels every reply and every thrown error into one place
 * (local reply, or a reset when the head was already sent), then records the outcome exactly
 * once. Never throws; always finishes the response.
 */
import type { Logger } from 'pino';
import { reportInternalError } from '../barrier/internal-error.ts';
import { ERROR_CODES, type SpookyError, toSpookyError } from '../errors.ts';
import type { Exchange } from '../http/exchange.ts';
import { headerValue } from '../http/hop-by-hop.ts';
import { type LocalReply, renderLocalReply, sendLocalReply } from '../http/local-reply.ts';
import { normalizeRequestHost } from '../http/request-host.ts';
import { requestIdFor } from '../http/request-id.ts';
import type { GenerationStore } from '../runtime/generation-store.ts';
import type { LongLivedState } from '../runtime/long-lived-state.ts';
import type { RequestSpan, RequestTracer } from '../tracing/request-spans.ts';
import { TracingRuntime } from '../tracing/tracing-runtime.ts';
import { type CompatOptions, createContext, type RequestContext } from './context.ts';
import { recordBareOutcome, recordOutcome } from './record-outcome.ts';
import { CONTINUE, type Stage } from './stage.ts';
import { createStages, createTunnelStages } from './stages.ts';

export interface RequestHandlerDeps {
  readonly store: GenerationStore;
  readonly state: LongLivedState;
  readonly logger: Logger;
  readonly compat?: CompatOptions;
  /**
   * Called once per request that pinned a generation, right after its outcome was recorded
   * (status, outcome and the winner are final): the per-generation health windows
   * (rollout/canary-wiring.ts). Must not throw; absent = nothing is called.
   */
  readonly outcome?: (ctx: RequestContext) => void;
  /** Span export per generation (tracing/tracing-runtime.ts); default: one of this handler's own. */
  readonly tracing?: TracingRuntime;
}

export type RequestHandler = (exchange: Exchange) => Promise<void>;

export function createRequestHandler(deps: RequestHandlerDeps): RequestHandler {
  const compat = deps.compat ?? {};
  const log = deps.logger;
  const tracing = deps.tracing ?? new TracingRuntime(log);
  // Built once per handler (process): stages hold the long-lived state they need.
  const stages = createStages({ state: deps.state, random: Math.random, logger: log });
  const tunnelStages = createTunnelStages({ state: deps.state, random: Math.random, logger: log }, stages);

  /** Deps' compat (tests) wins; else the pinned generation's `compat` section decides. */
  function statusFor(ctx: RequestContext, code: string, fallback: number): number {
    const fromConfig = ctx.generation.config.compat;
    if (code === 'no_route') return compat.noRouteStatus ?? fromConfig?.no_route_status ?? fallback;
    if (code === 'upstream_timeout') return compat.upstreamTimeoutStatus ?? fromConfig?.upstream_timeout_status ?? fallback;
    return fallback;
  }

  /** Writes a local reply when the head is not out yet; otherwise resets the stream. */
  function finish(ctx: RequestContext, reply: LocalReply, outcome: string): void {
    const sink = ctx.exchange.response;
    ctx.outcome = outcome;
    if (sink.headersSent) {
      if (!sink.closed) sink.abort('internal');
      return;
    }
    if (sink.closed || ctx.exchange.signal.aborted) {
      ctx.status = ERROR_CODES.client_aborted.httpStatus;
      ctx.outcome = 'client:aborted';
      return;
    }
    const status = statusFor(ctx, reply.code, reply.status);
    ctx.status = status;
    const render = renderLocalReply({ ...reply, status }, headerValue(ctx.exchange.head.headers, 'accept'), ctx.requestId);
    ctx.bytesOut += sendLocalReply(sink, render, ctx.exchange.head.method);
  }

  function funnel(ctx: RequestContext, err: unknown): void {
    const error: SpookyError = toSpookyError(err);
    if (error.code === 'internal') reportInternalError('exchange_handler', error.cause ?? error, ctx.requestId);
    else if (error.source === 'upstream') log.debug({ requestId: ctx.requestId, code: error.code }, 'upstream failure');
    finish(ctx, { status: error.httpStatus, code: error.code }, error.outcome);
  }

  return async function handle(exchange: Exchange): Promise<void> {
    const startedAt = performance.now();
    const head = exchange.head;
    let requestId = '';
    try {
      requestId = requestIdFor(headerValue(head.headers, 'x-request-id'));
      // The serving generation, or the held candidate for its share of clients (in-node canary).
      const generation = deps.store.pick(exchange.remoteAddress ?? exchange.connectionId ?? null);
      if (generation === null) {
        answerWithoutGeneration(exchange, requestId, startedAt);
        return;
      }
      const ctx = createContext(exchange, generation, requestId, startedAt);
      // Span export on for this generation: the request's span (null → nothing of tracing runs).
      const tracer = tracing.tracerFor(generation);
      if (tracer !== null) startRequestSpan(ctx, tracer);
      try {
        // Tunnels (WebSocket upgrade, CONNECT; ingress/tcp) end in runTunnel instead.
        // An index loop: an array iterator live across an await is a heap object per request.
        const list = exchange.tunnel === undefined ? stages : tunnelStages;
        for (let i = 0; i < list.length; i++) {
          // A synchronous stage (screening, routing) is not awaited: no promise, no tick.
          const ran = (list[i] as Stage).run(ctx);
          const result = ran instanceof Promise ? await ran : ran;
          if (result !== CONTINUE) {
            finish(ctx, result, `rejected:${result.code}`);
            break;
          }
        }
      } catch (err) {
        funnel(ctx, err);
      }
      ctx.releaseWhenDelivered();
      // Every try ends (once) with the request: a try still open here lost its response
      // (its relay never started or the stage threw); ending it returns its permits.
      for (const attempt of ctx.attempts) if (!attempt.ended) attempt.end(null);
      runDeferred(ctx);
      recordOutcome(ctx);
      if (ctx.trace !== null) endRequestSpan(ctx, ctx.trace);
      deps.outcome?.(ctx);
    } catch (err) {
      // Last resort (a bug in the funnel or in recordOutcome's subscribers): never throw.
      reportInternalError('exchange_handler', err, requestId);
      try {
        const sink = exchange.response;
        if (!sink.closed) sink.abort('internal');
      } catch (abortErr) {
        reportInternalError('exchange_handler', abortErr, requestId);
      }
    }
  };
}

/** The request's deferred cleanups, last registered first, each exactly once; a throw is contained. */
function runDeferred(ctx: RequestContext): void {
  const fns = ctx.deferred;
  if (fns === null) return;
  ctx.deferred = null;
  for (let i = fns.length - 1; i >= 0; i--) {
    try {
      (fns[i] as () => void)();
    } catch (err) {
      reportInternalError('exchange_handler', err, ctx.requestId);
    }
  }
}

function answerWithoutGeneration(exchange: Exchange, requestId: string, startedAt: number): void {
  const head = exchange.head;
  const entry = ERROR_CODES.no_generation;
  const render = renderLocalReply({ status: entry.httpStatus, code: 'no_generation' }, headerValue(head.headers, 'accept'), requestId);
  const bytesOut = sendLocalReply(exchange.response, render, head.method);
  const rawHost = head.authority ?? headerValue(head.headers, 'host');
  recordBareOutcome(
    {
      requestId,
      traceId: null,
      protocol: exchange.protocol,
      method: head.method,
      host: rawHost === null ? null : normalizeRequestHost(rawHost),
      path: head.path,
      generationSeq: 0,
      status: entry.httpStatus,
      outcome: entry.outcome,
      startedAt,
    },
    bytesOut,
  );
}

/** The request's SERVER span, parented by a valid single inbound traceparent; its trace id is the one logged. */
function startRequestSpan(ctx: RequestContext, tracer: RequestTracer): void {
  const head = ctx.exchange.head;
  let traceparent: string | null = null;
  let count = 0;
  let tracestate: string | null = null;
  for (const [name, value] of head.headers) {
    if (name === 'traceparent') {
      traceparent = value;
      count++;
    } else if (name === 'tracestate') tracestate = tracestate === null ? value : `${tracestate},${value}`;
  }
  const span = tracer.startRequest({
    method: head.method,
    protocol: ctx.exchange.protocol,
    requestId: ctx.requestId,
    startedAt: ctx.startedAt,
    traceparent: count === 1 ? traceparent : null,
    tracestate: count === 1 ? tracestate : null,
  });
  ctx.trace = span;
  ctx.traceId = span.traceId;
}

function endRequestSpan(ctx: RequestContext, span: RequestSpan): void {
  span.end({
    host: ctx.host,
    status: ctx.status,
    outcome: ctx.outcome,
    upstream: ctx.upstream?.name ?? ctx.route?.upstream ?? null,
    generationSeq: ctx.generation.ref?.seq ?? 0,
    attempts: ctx.attempts.length,
  });
}
