/**
 * Local replies: responses Spooky generates itself (rejections, routing misses, upstream
 * failures). Body is `text/plain` "<status> <reason>\n", or `application/problem+json`
 * (RFC 9457) when the client's Accept mentions json. Always carries `spooky-reason: <code>`
 * and the request id, and `date` (the HTTP/3 library adds none itself). Never includes internal
 * error text.
 */
import { STATUS_CODES } from 'node:http';
import type { HeaderList, ResponseSink } from './exchange.ts';
import { httpDate } from './http-date.ts';

export interface LocalReply {
  readonly status: number;
  /** Stable reason code (a key of ERROR_CODES). */
  readonly code: string;
  /** Extra response headers, e.g. retry-after. */
  readonly headers?: HeaderList;
}

export interface LocalReplyRender {
  readonly status: number;
  readonly headers: HeaderList;
  readonly body: Uint8Array;
}

/** Pure: the head and body of a local reply for a client that sent `accept`. */
export function renderLocalReply(reply: LocalReply, accept: string | null, requestId: string): LocalReplyRender {
  const reason = STATUS_CODES[reply.status] ?? 'Unknown';
  const json = accept !== null && /json/i.test(accept);
  const text = json
    ? JSON.stringify({ type: 'about:blank', title: reason, status: reply.status, code: reply.code, request_id: requestId })
    : `${reply.status} ${reason}\n`;
  const body = Buffer.from(text, 'utf8');
  const headers: HeaderList = [
    ['content-type', json ? 'application/problem+json' : 'text/plain; charset=utf-8'],
    ['content-length', String(body.byteLength)],
    ['cache-control', 'no-store'],
    ['spooky-reason', reply.code],
    ['x-request-id', requestId],
    ['date', httpDate()],
    ...(reply.headers ?? []),
  ];
  return { status: reply.status, headers, body };
}

/**
 * Writes a rendered reply to the sink. HEAD requests get the head only. Returns the body bytes
 * written. No-op (0) when the sink already sent a head or closed.
 */
export function sendLocalReply(sink: ResponseSink, render: LocalReplyRender, method: string): number {
  if (sink.headersSent || sink.closed) return 0;
  if (method === 'HEAD') {
    sink.sendComplete(render.status, render.headers, null);
    return 0;
  }
  sink.sendComplete(render.status, render.headers, render.body);
  return render.body.byteLength;
}
