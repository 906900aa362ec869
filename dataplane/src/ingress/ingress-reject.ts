/**
 * Requests ingress answers itself, before the pipeline (a head that breaks the HTTP/3 / HTTP/2
 * pseudo-header rules, an HTTP/1.1 target or upgrade ingress refuses, an HTTP/3 request on a
 * listener that requires client certificates, bytes node's HTTP/1.1 parser refuses). Each gets
 * what a pipeline request gets: a request id (`x-request-id` on the reply, the inbound one when
 * valid), a local reply with `spooky-reason: <reason>` (http/local-reply.ts), and one
 * RequestEndEvent with outcome `ingressOutcome(reason)` (telemetry/reason-vocabulary.ts), so
 * the access log writes its line and spooky_requests_total counts it (upstream "none").
 *
 * The facts are what ingress could read: the head did not parse, so method, path and host are
 * taken as sent (`-` / `` when absent) and only serve the log line; generation seq is 0. The
 * duration starts when ingress decided to refuse (callers pass that `performance.now()`), so a
 * request that is served pays no clock read for it.
 */
import type { ClientProtocol, ResponseSink } from '../http/exchange.ts';
import { renderLocalReply, sendLocalReply } from '../http/local-reply.ts';
import { normalizeRequestHost } from '../http/request-host.ts';
import { requestIdFor } from '../http/request-id.ts';
import { recordBareOutcome } from '../pipeline/record-outcome.ts';
import { type IngressRejection, ingressOutcome } from '../telemetry/reason-vocabulary.ts';

/** What ingress knows of a request it refuses; every field as the client sent it. */
export interface RejectedRequest {
  readonly protocol: ClientProtocol;
  readonly method: string | null;
  readonly path: string | null;
  /** `:authority`, else `Host`. */
  readonly authority: string | null;
  /** The inbound `x-request-id` (kept when valid, else replaced). */
  readonly requestId: string | null;
  readonly accept: string | null;
}

/**
 * Answers `status` with `reason` on `sink` (unless it already sent a head or closed) and records
 * the request's end. Never throws on odd input: values are only copied into the event.
 */
export function answerIngressReject(sink: ResponseSink, request: RejectedRequest, status: number, reason: IngressRejection, startedAt: number): void {
  const requestId = requestIdFor(request.requestId);
  const method = request.method ?? '-';
  const render = renderLocalReply({ status, code: reason }, request.accept, requestId);
  let bytesOut = 0;
  if (request.method === null) {
    // The method is unknown (the request line did not parse; it may have been HEAD): as node
    // does, the reply has no body, so no client reads bytes it did not expect.
    const headers = render.headers.map(([n, v]): [string, string] => (n === 'content-length' ? [n, '0'] : [n, v]));
    if (!sink.headersSent && !sink.closed) sink.sendComplete(status, headers, null);
  } else {
    bytesOut = sendLocalReply(sink, render, method);
  }
  recordBareOutcome(
    {
      requestId,
      traceId: null,
      protocol: request.protocol,
      method,
      host: request.authority === null ? null : normalizeRequestHost(request.authority),
      path: request.path ?? '',
      generationSeq: 0,
      status,
      outcome: ingressOutcome(reason),
      startedAt,
    },
    bytesOut,
  );
}

/** A single header value from node's / the library's header object (first of a repeated one). */
export function singleValue(value: string | readonly string[] | undefined): string | null {
  if (value === undefined) return null;
  if (typeof value === 'string') return value;
  return value[0] ?? null;
}
