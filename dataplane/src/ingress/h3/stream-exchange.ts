/**
 * Library stream (HTTP/3, or HTTP/2 through the library's adapter) → Exchange.
 *
 * Contract: called synchronously from the server's `stream` event. Returns null when ingress
 * answered the request itself (malformed pseudo-headers → 400 with `spooky-reason`); the
 * pipeline then never sees it.
 *
 * Body: a relay of the stream's readable side (see request-body.ts), with the stream paused
 * before this returns. The library resumes a never-read stream when the request's FIN
 * arrives (0.9.0), which silently drops POST bodies unless the stream is paused at once.
 */
import type { Readable } from 'node:stream';
import type { IncomingHeaders, ServerHttp3Stream, StreamFlags } from '@currentspace/http3';
import type { Exchange } from '../../http/exchange.ts';
import { reportInternalError } from '../../barrier/internal-error.ts';
import { relayBody } from '../request-body.ts';
import type { PeerBook } from './library-internals.ts';
import { isHttp2Adapted } from './library-internals.ts';
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
  const controller = new AbortController();
  const goneBeforeEnd = (): void => {
    sink.markGone();
    if (!sink.finishedByServer && !controller.signal.aborted) controller.abort(new Error('client went away'));
  };
  // An 'error' without a listener would crash the process (e.g. a reset mid-write).
  stream.on('error', goneBeforeEnd);
  stream.on('aborted', goneBeforeEnd);
  stream.on('close', goneBeforeEnd);

  const parsed = requestHeadFromHeaders(headers);
  if (!parsed.ok) {
    sink.sendHead(400, [['content-type', 'text/plain'], ['spooky-reason', parsed.reason]], false);
    sink.write(Buffer.from(`bad request: ${parsed.reason}\n`));
    sink.end();
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
