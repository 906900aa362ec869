/**
 * HTTP/1.1 tunnel requests → Exchange. node's HTTP/1.1 parser (under the library's node:http2
 * server, `allowHTTP1`) hands a request with an `Upgrade` header to the server's 'upgrade'
 * event and a CONNECT to its 'connect' event, with the raw client socket and the bytes read
 * past the head — never to 'request' while such a listener exists. Without a 'connect'
 * listener node destroys the connection of every CONNECT; with this one it gets an answer
 * (405 unless `resilience.protocol.allow_connect`, decided by screening).
 *
 * Contract: called synchronously from the event; returns null when ingress answered the
 * request itself:
 *  - request target not in origin form (an upgrade), or not `host:port` (a CONNECT) → 400;
 *  - an `Upgrade` other than websocket (e.g. h2c, which is cleartext-only anyway) → 400
 *    `bad_upgrade`: the connection has left node's parser, so it cannot fall back to a plain
 *    request.
 * The socket gets an error listener at once: a client reset never reaches the process.
 */
import { Cancellation } from '../../http/cancellation.ts';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { reportInternalError } from '../../barrier/internal-error.ts';
import type { Exchange } from '../../http/exchange.ts';
import type { IngressRejection } from '../../telemetry/reason-vocabulary.ts';
import { isWebSocketUpgrade } from '../../tunnel/tunnel-wire.ts';
import { requestHeadFromHttp1 } from '../h3/request-head.ts';
import { answerIngressReject } from '../ingress-reject.ts';
import { rejectedHttp1 } from './http1-exchange.ts';
import { RawSocketSink } from './raw-socket-sink.ts';

const AUTHORITY_FORM = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;

export function createHttp1TunnelExchange(kind: 'upgrade' | 'connect', req: IncomingMessage, socket: Socket, head: Buffer, altSvc: string): Exchange | null {
  try {
    return adapt(kind, req, socket, head, altSvc);
  } catch (err) {
    // Crash barrier: this one connection is dropped; the process goes on.
    reportInternalError('ingress_adapter', err);
    socket.destroy();
    return null;
  }
}

function adapt(kind: 'upgrade' | 'connect', req: IncomingMessage, socket: Socket, head: Buffer, altSvc: string): Exchange | null {
  const controller = new Cancellation();
  const gone = (): void => {
    if (!controller.signal.aborted) controller.abort(new Error('client went away'));
  };
  socket.on('error', gone);
  socket.once('close', gone);
  const sink = new RawSocketSink(socket, altSvc);
  const method = req.method ?? 'GET';
  const url = req.url ?? '';
  // CONNECT's target is an authority (`host:port`); it is routed like a request to that host.
  const parsed = kind === 'connect' ? connectHead(url, req.rawHeaders) : requestHeadFromHttp1(method, url, req.rawHeaders);
  if (!parsed.ok) return refuse(sink, req, parsed.reason);
  if (kind === 'upgrade' && !isWebSocketUpgrade(method, parsed.head.headers)) return refuse(sink, req, 'bad_upgrade');
  return {
    protocol: 'http/1.1',
    head: parsed.head,
    remoteAddress: socket.remoteAddress ?? null,
    remotePort: socket.remotePort ?? null,
    body: null,
    signal: controller.signal,
    response: sink,
    tunnel: {
      kind: kind === 'connect' ? 'connect' : 'websocket',
      handshake: 'http1',
      socket,
      head,
      accept: (status, headers) => sink.sendHead(status, headers, false),
    },
  };
}

type Parsed = ReturnType<typeof requestHeadFromHttp1>;

function connectHead(target: string, rawHeaders: readonly string[]): Parsed {
  if (!AUTHORITY_FORM.test(target)) return { ok: false, reason: 'path_invalid' };
  // Reuse the header checks of origin-form requests; the path stands for "no path".
  const checked = requestHeadFromHttp1('CONNECT', '/', rawHeaders);
  if (!checked.ok) return checked;
  return { ok: true, head: { ...checked.head, authority: target } };
}

function refuse(sink: RawSocketSink, req: IncomingMessage, reason: IngressRejection): null {
  answerIngressReject(sink, rejectedHttp1(req), 400, reason, performance.now());
  return null;
}
