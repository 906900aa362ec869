/**
 * HTTP/1.1 bytes node's parser refuses (a malformed request line or header, framing that could
 * smuggle a request, a head over `maxHeaderSize`, a head slower than `headersTimeout`) never
 * reach the 'request' event: node emits 'clientError' on the TCP server. Without a listener
 * node writes a bare 400 / 413 / 431 / 408 and closes the connection, with no request id and no
 * trace in the access log or the metrics. This listener gives the same answers as node (same
 * statuses, same close), through ingress-reject.ts: `spooky-reason`, `x-request-id`, one
 * RequestEndEvent (closed reasons: `malformed_request`, `headers_too_large`, `body_too_large`,
 * `client_headers_timeout`).
 *
 * Socket errors (a reset, a broken pipe) reach 'clientError' too: those are not requests and
 * only close the connection. As in node, nothing is written while a response is on the wire
 * (its head already sent), so a response in progress is never corrupted; the parse error is
 * still recorded.
 */
import type { Socket } from 'node:net';
import type { ResponseSink } from '../../http/exchange.ts';
import type { IngressRejection } from '../../telemetry/reason-vocabulary.ts';
import { answerIngressReject } from '../ingress-reject.ts';
import { RawSocketSink } from './raw-socket-sink.ts';

/** node's own choice of status per parser error code, with our reason for it. */
function answerFor(code: string | undefined): { readonly status: number; readonly reason: IngressRejection } | null {
  if (code === 'HPE_HEADER_OVERFLOW') return { status: 431, reason: 'headers_too_large' };
  if (code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') return { status: 413, reason: 'body_too_large' };
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return { status: 408, reason: 'client_headers_timeout' };
  if (code?.startsWith('HPE_')) return { status: 400, reason: 'malformed_request' };
  return null;
}

/** Listens for 'clientError' on the TCP side of a listener; `altSvc` is read per answer. */
export function answerHttp1ClientErrors(server: { on(event: 'clientError', fn: (err: Error, socket: Socket) => void): unknown }, altSvc: () => string): void {
  // node emits 'clientError' again for bytes that keep arriving after the first parse error
  // (the rest of an oversized head): one answer and one event per connection.
  const answered = new WeakSet<Socket>();
  server.on('clientError', (err, socket) => {
    const startedAt = performance.now();
    const answer = answerFor((err as { code?: string }).code);
    if (answer === null || socket.destroyed || answered.has(socket)) {
      socket.destroy();
      return;
    }
    // node's rule (lib/_http_server.js socketOnError): no bytes while a response head is out.
    const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
    answered.add(socket);
    const sink: ResponseSink = socket.writable && inFlight?.headersSent !== true ? new RawSocketSink(socket, altSvc()) : NO_REPLY;
    answerIngressReject(sink, { protocol: 'http/1.1', method: null, path: null, authority: null, requestId: null, accept: null }, answer.status, answer.reason, startedAt);
    socket.destroySoon();
  });
}

/** A sink that takes no reply (the event is still recorded): the socket cannot take one. */
const NO_REPLY: ResponseSink = {
  headersSent: true,
  closed: true,
  done: true,
  whenDone: (fn) => fn(),
  sendHead: () => {},
  sendComplete: () => {},
  write: () => true,
  drain: () => Promise.resolve(),
  end: () => {},
  abort: () => {},
};
