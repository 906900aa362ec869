/**
 * recordOutcome: the last step, run exactly once per request by the runner (also when the
 * request never got a generation). Turns the context into one RequestEndEvent on the
 * `spooky:request:end` channel; observability/ subscribes (access log, metrics).
 */

import { headerValue } from '../http/hop-by-hop.ts';
import { inboundTraceId } from '../http/trace-context.ts';
import { hedgeSent } from '../resilience/hedge-results.ts';
import type { RequestContext } from './context.ts';
import { publishRequestEnd, type RequestEndEvent } from './events.ts';

/** What a request that never ran the stages still reports: the event's request fields. */
export type OutcomeFacts = Pick<
  RequestEndEvent,
  'requestId' | 'traceId' | 'protocol' | 'method' | 'host' | 'path' | 'generationSeq' | 'status' | 'outcome'
> & { readonly startedAt: number };

/** For requests that ran the stages. */
export function recordOutcome(ctx: RequestContext): void {
  const winner = ctx.winner;
  publishRequestEnd({
    requestId: ctx.requestId,
    traceId: ctx.traceId ?? (ctx.generation.config.tracing.enabled ? inboundTraceId(headerValue(ctx.exchange.head.headers, 'traceparent')) : null),
    protocol: ctx.exchange.protocol,
    method: ctx.exchange.head.method,
    host: ctx.host,
    path: ctx.exchange.head.path,
    generationSeq: ctx.generation.ref?.seq ?? 0,
    route: ctx.route?.upstream ?? null,
    upstream: ctx.upstream?.name ?? ctx.route?.upstream ?? null,
    backend: winner?.backend.id ?? null,
    status: ctx.status,
    outcome: ctx.outcome,
    attempts: ctx.attempts.length,
    durationMs: performance.now() - ctx.startedAt,
    upstreamHeadersMs: winner?.headersAt == null ? null : winner.headersAt - ctx.startedAt,
    bytesIn: ctx.bytesIn,
    bytesOut: ctx.bytesOut,
    retryRefusal: ctx.retryRefusal,
    hedged: hedgeSent(ctx.hedge),
    hedge: ctx.hedge,
    shed: ctx.shed,
    rateLimitRule: ctx.rateLimitRule,
    rateLimitMode: ctx.rateLimitMode,
  });
}

/** For requests answered before a context existed (no generation served). */
export function recordBareOutcome(facts: OutcomeFacts, bytesOut: number): void {
  publishRequestEnd({
    requestId: facts.requestId,
    traceId: facts.traceId,
    protocol: facts.protocol,
    method: facts.method,
    host: facts.host,
    path: facts.path,
    generationSeq: facts.generationSeq,
    route: null,
    upstream: null,
    backend: null,
    status: facts.status,
    outcome: facts.outcome,
    attempts: 0,
    durationMs: performance.now() - facts.startedAt,
    upstreamHeadersMs: null,
    bytesIn: 0,
    bytesOut,
    retryRefusal: null,
    hedged: false,
    hedge: null,
    shed: null,
    rateLimitRule: null,
    rateLimitMode: null,
  });
}
