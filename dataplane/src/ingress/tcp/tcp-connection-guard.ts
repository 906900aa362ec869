/**
 * Connection-level limits on the TLS TCP side of a listener (node's http2 server under the
 * library; see h3/library-internals.ts `tcpServerOf`). Attach before the server binds.
 *
 * - Admission ('connection', before any TLS work): per-IP cap, global cap, new-connection
 *   rate (ConnectionAdmission, shared with QUIC). Refused → the socket is destroyed at once.
 * - TLS handshake bound: a connection still handshaking after `tlsHandshakeTimeoutMs` is
 *   destroyed.
 * - HTTP/1.1 (node's own machinery, configured here): `headersTimeout` =
 *   `clientHeaderTimeoutMs` (node answers 408 and closes; measured from the connection or
 *   from the first byte of the next request), checked every CHECK_INTERVAL_MS;
 *   `keepAliveTimeout` = `clientIdleTimeoutMs`; `requestTimeout` = 0 (the pipeline owns the
 *   whole-request deadline); `maxHeaderSize` = protocolHeaderBound.
 * - HTTP/2: SETTINGS_MAX_HEADER_LIST_SIZE = protocolHeaderBound (node refuses bigger blocks
 *   before they reach JS), SETTINGS_MAX_CONCURRENT_STREAMS = H2_MAX_CONCURRENT_STREAMS,
 *   SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 WebSockets, tunnel/); each
 *   session goes to guardH2Session (no-stream / idle timers, rapid-reset bound).
 *
 * New limits (`apply`) reach new connections; HTTP/1.1 timeouts are read by node at each
 * check, so they also reach open ones.
 */
import type { Http2SecureServer, ServerHttp2Session } from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { type ConnectionLimits, protocolHeaderBound } from '../limits/connection-limits.ts';
import type { GuardContext } from '../limits/guard-context.ts';
import { guardH2Session } from './h2-session-guard.ts';

export interface TcpGuard {
  /** Pushes the admission's current limits into node's settings (new connections). */
  apply(): void;
}

/** Granularity of node's HTTP/1.1 headers-timeout sweep (node's default is 30 s). */
const CHECK_INTERVAL_MS = 500;
/** Per HTTP/2 connection, like nginx's http2_max_concurrent_streams (node's default is 2³²−1). */
export const H2_MAX_CONCURRENT_STREAMS = 128;

export function guardTcpServer(h2: Http2SecureServer, ctx: GuardContext): TcpGuard {
  // Read by node when the server starts listening: must be set before the TCP side binds.
  (h2 as unknown as { connectionsCheckingInterval: number }).connectionsCheckingInterval = CHECK_INTERVAL_MS;
  const handshaking = new Map<string, NodeJS.Timeout>();

  h2.on('connection', (raw: Socket) => {
    const admitted = ctx.admission.admit(raw.remoteAddress ?? '');
    if (!admitted.ok) {
      ctx.events.rejected(ctx.label(), admitted.reason);
      raw.destroy();
      return;
    }
    const key = peerKey(raw);
    const timer = setTimeout(() => {
      handshaking.delete(key);
      ctx.events.closed(ctx.label(), 'tls_handshake_timeout');
      raw.destroy();
    }, ctx.admission.limits.tlsHandshakeTimeoutMs);
    timer.unref();
    handshaking.set(key, timer);
    raw.once('close', () => {
      admitted.release();
      clearTimeout(timer);
      if (handshaking.get(key) === timer) handshaking.delete(key);
    });
  });

  h2.on('secureConnection', (tls: TLSSocket) => {
    const key = peerKey(tls);
    const timer = handshaking.get(key);
    if (timer) {
      clearTimeout(timer);
      handshaking.delete(key);
    }
  });

  h2.on('session', (session: ServerHttp2Session) => guardH2Session(session, ctx));

  const apply = (): void => applyLimits(h2, ctx.admission.limits);
  apply();
  return { apply };
}

function applyLimits(h2: Http2SecureServer, limits: ConnectionLimits): void {
  const bound = protocolHeaderBound(limits);
  const http1 = h2 as unknown as { headersTimeout: number; requestTimeout: number; keepAliveTimeout: number; maxHeaderSize: number };
  http1.headersTimeout = limits.clientHeaderTimeoutMs;
  http1.requestTimeout = 0;
  http1.keepAliveTimeout = limits.clientIdleTimeoutMs;
  http1.maxHeaderSize = bound;
  // enableConnectProtocol: RFC 8441 WebSockets over HTTP/2 (ingress/h3/stream-exchange.ts → tunnel/).
  h2.updateSettings({ maxHeaderListSize: bound, maxConcurrentStreams: H2_MAX_CONCURRENT_STREAMS, enableConnectProtocol: true });
}

function peerKey(socket: Socket): string {
  return `${socket.remoteAddress ?? ''}|${socket.remotePort ?? ''}`;
}
