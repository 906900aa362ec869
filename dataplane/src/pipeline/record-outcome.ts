/**
 * recordOutcome: the last step, run exactly once per request by the runner (also when the
 * request never got a generation). Turns the context into one RequestEndEvent on the
 * `spooky:request:end` channel; observability/ subscribes (access log, metrics).
 */
import type { ClientProtocol } from '../http/exchange.ts';
import { publishRequestEnd } from './events.ts';
import type { RequestContext } from './context.ts';

export interface OutcomeFacts {
  readonly requestId: string;
  readonly protocol: ClientProtocol;
  readonly method: string;
  readonly host: string | null;
  readonly path: string;
  readonly generationSeq: number;
  readonly status: number;
  readonly outcome: string;
  readonly startedAt: number;
}

/** For requests that ran the stages. */
export function recordOutcome(ctx: RequestContext): void {
  const winner = ctx.winner;
  publishRequestEnd({
    requestId: ctx.requestId,
    protocol: ctx.exchange.protocol,
    method: ctx.exchange.head.method,
    host: ctx.host,
    path: ctx.exchange.head.path,
    generationSeq: ctx.generation.ref?.seq ?? 0,
    upstream: ctx.route?.upstream ?? null,
    backend: winner?.backend.id ?? null,
    status: ctx.status,
    outcome: ctx.outcome,
    attempts: ctx.attempts.length,
    durationMs: performance.now() - ctx.startedAt,
    upstreamHeadersMs: winner?.headersAt == null ? null : winner.headersAt - ctx.startedAt,
    bytesIn: ctx.bytesIn,
    bytesOut: ctx.bytesOut,
  });
}

/** For requests answered before a context existed (no generation served). */
export function recordBareOutcome(facts: OutcomeFacts, bytesOut: number): void {
  publishRequestEnd({
    requestId: facts.requestId,
    protocol: facts.protocol,
    method: facts.method,
    host: facts.host,
    path: facts.path,
    generationSeq: facts.generationSeq,
    upstream: null,
    backend: null,
    status: facts.status,
    outcome: facts.outcome,
    attempts: 0,
    durationMs: performance.now() - facts.startedAt,
    upstreamHeadersMs: null,
    bytesIn: 0,
    bytesOut,
  });
}
