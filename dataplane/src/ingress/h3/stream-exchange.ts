/**
 * Library stream (HTTP/3, or HTTP/2 through the library's adapter) → Exchange.
 *
 * Contract: called synchronously from the server's `stream` event. Returns null when ingress
 * answered the request itself (malformed pseudo-headers → 400 with `spooky-reason`, a request
 * id and a RequestEndEvent: ingress-reject.ts); the pipeline then never sees it.
 *
 * Body: a relay of the stream's readable side (see request-body.ts), with the stream paused
 * before this returns. The library resumes a never-read stream when the request's FIN
 * arrives (0.9.0), which silently drops POST bodies unless the stream is paused at once.
 */
import { type CancelSignal, Cancellation } from '../../http/cancellation.ts';
import type { Readable } from 'node:stream';
import type { IncomingHeaders, ServerHttp3Stream, StreamFlags } from '@currentspace/http3';
import { reportInternalError } from '../../barrier/internal-error.ts';
import type { Exchange, HeaderList } from '../../http/exchange.ts';
import { answerIngressReject, singleValue } from '../ingress-reject.ts';
import { relayBody } from '../request-body.ts';
import type { PeerBook } from './library-internals.ts';
import { http2StreamOf, isHttp2Adapted } from './library-internals.ts';
import { requestHeadFromHeaders } from './request-head.ts';
import { StreamResponseSink } from './stream-response-sink.ts';

export interface StreamExchangeContext {
  readonly peers: PeerBook;
  /** Alt-Svc value for this listener (see altSvcValue). */
  readonly altSvc: string;
}

export function createStreamExchange(
  stream: ServerHttp3Stream,
  headers: IncomingHeaders,
  flags: StreamFlags,
  ctx: StreamExchangeContext,
): Exchange | null {
  try {
    return adaptStream(stream, headers, flags, ctx);
  } catch (err) {
    // Crash barrier: this one stream is reset; the connection and the process go on.
    reportInternalError('ingress_adapter', err);
    resetQuietly(stream);
    return null;
  }
}

function resetQuietly(stream: ServerHttp3Stream): void {
  try {
    if (!stream.destroyed) stream.close(isHttp2Adapted(stream) ? 0x2 : 0x102);
  } catch (err) {
    reportInternalError('ingress_adapter', err);
  }
}

function adaptStream(stream: ServerHttp3Stream, headers: IncomingHeaders, flags: StreamFlags, ctx: StreamExchangeContext): Exchange | null {
  const http2 = isHttp2Adapted(stream);
  const sink = new StreamResponseSink(stream, ctx.altSvc, http2);
  const controller = new Cancellation();
  const goneBeforeEnd = (): void => {
    sink.markGone();
    if (!sink.finishedByServer && !controller.signal.aborted) controller.abort(new Error('client went away'));
  };
  // An 'error' without a listener would crash the process (e.g. a reset mid-write).
  stream.on('error', goneBeforeEnd);
  stream.on('aborted', goneBeforeEnd);
  stream.on('close', goneBeforeEnd);

  // RFC 8441 extended CONNECT for a WebSocket (HTTP/2 only: the TCP listener advertises
  // SETTINGS_ENABLE_CONNECT_PROTOCOL; HTTP/3 has no such setting in the library). Any other
  // `:protocol` is refused by the head parser as an unknown pseudo-header.
  if (http2 && headers[':method'] === 'CONNECT' && headers[':protocol'] === 'websocket') {
    const tunnel = websocketOverHttp2(stream, headers, controller.signal, sink, ctx);
    if (tunnel !== null) return tunnel;
  }
  const parsed = requestHeadFromHeaders(headers);
  if (!parsed.ok) {
    const request = {
      protocol: http2 ? 'h2' : 'h3',
      method: singleValue(headers[':method']),
      path: singleValue(headers[':path']),
      authority: singleValue(headers[':authority']) ?? singleValue(headers['host']),
      requestId: singleValue(headers['x-request-id']),
      accept: singleValue(headers['accept']),
    } as const;
    answerIngressReject(sink, request, 400, parsed.reason, performance.now());
    if (!flags.endStream) stream.resume(); // discard any body
    return null;
  }

  let body: Readable | null = null;
  if (!flags.endStream) {
    stream.pause();
    const relay = relayBody(stream);
    body = relay;
    // A response finished before the body was read: discard the rest, so the library sees
    // the readable side end and can release the stream.
    stream.once('finish', () => {
      if (!stream.readableEnded) {
        relay.destroy();
        stream.resume();
      }
    });
  }
  const peer = ctx.peers.peerOf(stream);
  return {
    protocol: http2 ? 'h2' : 'h3',
    head: parsed.head,
    remoteAddress: peer.address,
    remotePort: peer.port,
    connectionId: peer.connectionId,
    body,
    signal: controller.signal,
    response: sink,
  };
}

/**
 * An RFC 8441 WebSocket request as a tunnel Exchange (kind websocket, handshake h2), relayed on
 * the inner node:http2 stream (library-internals.ts, 6). null when the head is malformed (the
 * caller's parse then answers 400) or the inner stream cannot be reached.
 */
function websocketOverHttp2(stream: ServerHttp3Stream, headers: IncomingHeaders, signal: CancelSignal, sink: StreamResponseSink, ctx: StreamExchangeContext): Exchange | null {
  const inner = http2StreamOf(stream);
  if (inner === null) return null;
  const { ':protocol': _protocol, ...rest } = headers;
  const parsed = requestHeadFromHeaders(rest);
  if (!parsed.ok) return null;
  // The adapter copies every chunk into its own readable buffer: let it flow (and drop them),
  // the relay reads the inner stream — paused until the relay pipes it (a client may only send
  // frames after the 200, RFC 8441 §5; any early bytes wait in node's stream, not lost).
  inner.pause();
  stream.resume();
  const peer = ctx.peers.peerOf(stream);
  return {
    protocol: 'h2',
    head: parsed.head,
    remoteAddress: peer.address,
    remotePort: peer.port,
    connectionId: peer.connectionId,
    body: null,
    signal,
    response: sink,
    tunnel: {
      kind: 'websocket',
      handshake: 'h2',
      socket: inner,
      head: Buffer.alloc(0),
      accept: (status: number, list: HeaderList): void => {
        const out: Record<string, string | string[] | number> = { ':status': status };
        for (const [name, value] of list) {
          const prev = out[name];
          out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [String(prev), value];
        }
        try {
          inner.respond(out, { endStream: false });
        } catch {
          inner.destroy(); // the client reset the stream meanwhile, or node refused a header
        }
      },
    },
  };
}
