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
 * - Drain (`drain()`, at shutdown or when the listener is replaced): every HTTP/2 session gets
 *   GOAWAY (NO_ERROR) through node's graceful `close()` (its open streams finish, then the
 *   connection closes; a session that arrives during the drain gets it with its first stream,
 *   which is served); idle
 *   HTTP/1.1 keep-alive connections are closed at once, and every HTTP/1.1 response from then
 *   on carries `Connection: close` (http1-exchange.ts reads `http1.draining`); a connection
 *   whose response head went out before the drain is closed when that response is done
 *   (`http1.responseDone()`). The listener's close cuts whatever is left.
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
  /** Starts the drain (see above); idempotent. */
  drain(): void;
  /**
   * The drain bound passed: destroys every HTTP/2 session and TCP connection still open, so
   * their exchanges end as client aborts now (the library's own close would leave busy
   * HTTP/1.1 connections open and wait for them).
   */
  cut(): void;
  /** What the HTTP/1.1 exchanges of this listener read. */
  readonly http1: Http1Drain;
}

/** The drain as an HTTP/1.1 exchange sees it: one property read per response head. */
export interface Http1Drain {
  /** True once the listener drains: responses carry `Connection: close`. */
  readonly draining: boolean;
  /** An HTTP/1.1 response finished or was abandoned: while draining, close idle connections. */
  responseDone(): void;
}

/** Granularity of node's HTTP/1.1 headers-timeout sweep (node's default is 30 s). */
const CHECK_INTERVAL_MS = 500;
/** Per HTTP/2 connection, like nginx's http2_max_concurrent_streams (node's default is 2³²−1). */
export const H2_MAX_CONCURRENT_STREAMS = 128;

export function guardTcpServer(h2: Http2SecureServer, ctx: GuardContext): TcpGuard {
  // Read by node when the server starts listening: must be set before the TCP side binds.
  (h2 as unknown as { connectionsCheckingInterval: number }).connectionsCheckingInterval = CHECK_INTERVAL_MS;
  const handshaking = new Map<string, NodeJS.Timeout>();
  /** Every admitted connection, for the cut (node's http2 server has no closeAllConnections). */
  const sockets = new Set<Socket>();

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
    sockets.add(raw);
    raw.once('close', () => {
      sockets.delete(raw);
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

  const sessions = new Set<ServerHttp2Session>();
  // node's own HTTP/1.1 connection list (the http2 server keeps one with allowHTTP1) knows
  // which keep-alive connections are between requests; one sweep per turn is enough.
  let sweep: NodeJS.Immediate | null = null;
  const closeIdle = (): void => {
    sweep = null;
    (h2 as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.();
  };
  const http1 = {
    draining: false,
    responseDone(): void {
      if (http1.draining && sweep === null) sweep = setImmediate(closeIdle);
    },
  };
  h2.on('session', (session: ServerHttp2Session) => {
    guardH2Session(session, ctx);
    if (http1.draining) {
      // Arrived during the drain: its first stream is served, GOAWAY goes out with it.
      session.once('stream', () => goAway(session));
      return;
    }
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });

  const apply = (): void => applyLimits(h2, ctx.admission.limits);
  apply();
  return {
    apply,
    http1,
    drain() {
      if (http1.draining) return;
      http1.draining = true;
      for (const s of sessions) goAway(s);
      closeIdle();
    },
    cut() {
      for (const s of sessions) s.destroy();
      sessions.clear();
      // node's Http2SecureServer has closeIdleConnections but no closeAllConnections (the
      // library's close() calls it only if present): without this, its close() would wait
      // for every busy HTTP/1.1 connection to end by itself.
      for (const raw of sockets) raw.destroy();
      sockets.clear();
    },
  };
}

/** GOAWAY NO_ERROR and a graceful close: open streams finish, new ones are refused. */
function goAway(session: ServerHttp2Session): void {
  if (session.closed || session.destroyed) return;
  try {
    session.close();
  } catch {
    // Already closing: nothing more to tell this client.
  }
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
