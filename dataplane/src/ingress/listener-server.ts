/**
 * One @currentspace/http3 server of a listener (serving-listener.ts): its QUIC/UDP socket
 * bound to the listener's address:port, and the library's node:http2 server (HTTP/2 through
 * the `stream` event, HTTP/1.1 through the `request` event), which binds nothing: the
 * listener hands it the connections its own TCP socket accepts (`accept`; see
 * h3/library-internals.ts `detachTcpListener`). Every request becomes an Exchange and goes to
 * the one handler.
 *
 * A listener has one such server, and two while a new default certificate is swapped in: the
 * new one gets every new TCP connection and its share of new QUIC connections (the kernel
 * spreads them over the port's SO_REUSEPORT group), the old one drains.
 *
 * Closing drains first: GOAWAY to HTTP/2 sessions, `Connection: close` on HTTP/1.1 (idle
 * keep-alive connections closed at once), HTTP/3 connections closed as soon as they have no
 * request open (tcp/tcp-connection-guard.ts, h3/quic-connection-guard.ts); in-flight requests
 * run up to the drain bound; then what is left is cut (HTTP/3 connections closed, their
 * streams failed; HTTP/2 sessions and TCP sockets destroyed: the exchanges end as client
 * aborts, their upstream requests are cancelled) and the server closes. The cut is ours, not
 * the library's close(): that one drops QUIC streams without an event.
 */
import type { IncomingMessage } from 'node:http';
import type { Http2SecureServer } from 'node:http2';
import type { Socket } from 'node:net';
import { createSecureServer, type Http3SecureServer } from '@currentspace/http3';
import type { Logger } from 'pino';
import type { Exchange } from '../http/exchange.ts';
import { headerValue } from '../http/hop-by-hop.ts';
import { applyClientCertHeaders } from './client-cert-headers.ts';
import { detachTcpListener, PeerBook, tcpServerOf, tlsSocketOfStream } from './h3/library-internals.ts';
import { createQuicGuard } from './h3/quic-connection-guard.ts';
import { createStreamExchange } from './h3/stream-exchange.ts';
import { InflightTracker } from './inflight-tracker.ts';
import { answerIngressReject } from './ingress-reject.ts';
import type { GuardContext } from './limits/guard-context.ts';
import type { ListenerSpec } from './listener-spec.ts';
import { clientIdentityOf, watchClientCertificates } from './tcp/client-cert-identity.ts';
import { type H3Coverage, h3Uncovered, markH3Coverage } from './tcp/h3-coverage.ts';
import { answerHttp1ClientErrors } from './tcp/http1-client-error.ts';
import { createHttp1Exchange } from './tcp/http1-exchange.ts';
import { createHttp1TunnelExchange } from './tcp/http1-tunnel-exchange.ts';
import { guardTcpServer, type Http1Drain, type TcpGuard } from './tcp/tcp-connection-guard.ts';
import { applyTcpTls } from './tcp/tcp-tls-contexts.ts';

/** Never throws; finishes the response (the pipeline's request handler). */
export type ExchangeHandler = (exchange: Exchange) => Promise<void>;

/** What every server of one listener reads per request; the listener updates it. */
export interface ListenerState {
  /** The spec now served: client-certificate policy and stripped headers. */
  spec: ListenerSpec;
  altSvc: string;
  /** Which SNI names the default certificate (HTTP/3's) covers; null without SNI certificates. */
  coverage: H3Coverage | null;
  /** `address:port`, for logs and metric labels. */
  label: string;
}

export interface ListenerServer {
  /** The UDP port bound (the listener binds its TCP socket on the same number). */
  readonly port: number;
  readonly inflight: InflightTracker;
  /** Hands a connection accepted on the listener's TCP socket to this server's TLS side. */
  accept(socket: Socket): void;
  /** Re-reads the shared admission's limits into the protocol settings. */
  applyLimits(): void;
  /** `spec`'s SNI certificates and client-certificate policy for new TCP handshakes; throws, nothing changed, when node rejects them. */
  updateTls(spec: ListenerSpec): void;
  /**
   * Drains (see above), then closes: in-flight requests may finish for up to drainMs; with
   * `untilQuiet` (a server retired by a certificate swap) it also waits, within the same
   * bound, until no QUIC connection is open — a connection the kernel still hashes to its
   * socket is served, not cut in its handshake. Then what is left is cut (open WebSocket /
   * CONNECT tunnels first: they hold the drain to its end) and both sides close. Resolves
   * once closed. Idempotent (the first call's bounds win).
   */
  close(drainMs: number, untilQuiet?: boolean): Promise<void>;
}

/** After the drain, how long destroyed tunnels get for their requests to end. */
const TUNNEL_CLOSE_WAIT_MS = 1000;
/** How long the end of a drain waits for the library to report its HTTP/3 connection closes. */
const CUT_WAIT_MS = 1000;
const NOT_DRAINING: Http1Drain = { draining: false, responseDone: () => undefined };

/**
 * Binds the QUIC side on `port` with `spec`'s default certificate and prepares the TLS TCP
 * side with `spec`'s material; rejects (nothing left open) when either fails.
 */
export async function openListenerServer(
  spec: ListenerSpec,
  port: number,
  state: ListenerState,
  handler: ExchangeHandler,
  logger: Logger,
  ctx: GuardContext,
): Promise<ListenerServer> {
  // metricsIntervalMs 0: the library otherwise polls every QUIC session's transport metrics
  // once a second (a timer, an async poll and a synchronous call into its worker per session);
  // nothing here reads them. 1.8 µs of the worker's JS time per request at 3 000 req/s over 16
  // connections (bench/README.md, "Pretenuring and the survivors").
  const server = createSecureServer({ key: spec.key, cert: spec.cert, allowHTTP1: true, metricsIntervalMs: 0 });
  detachTcpListener(server);
  const quic = createQuicGuard(ctx);
  const peers = new PeerBook();
  const inflight = new InflightTracker();
  /**
   * `tlsSocket`: the connection's TLS socket when client certificates are configured (else
   * null). Per request: one scan of the header names for the identity headers (forgery guard),
   * plus one property read for the identity on client-auth listeners.
   */
  const run = (exchange: Exchange | null, tlsSocket: object | null): void => {
    if (!exchange) return;
    const auth = state.spec.clientAuth;
    if (exchange.protocol === 'h3' && auth?.required) {
      inflight.track(refuseWithoutClientCert(exchange));
      return;
    }
    applyClientCertHeaders(exchange.head.headers, state.spec.strippedHeaders, auth ? clientIdentityOf(tlsSocket) : undefined, auth);
    inflight.track(handler(exchange));
  };

  // QUIC connections open now (HTTP/2 adapter sessions excluded), for close(…, untilQuiet).
  let quicOpen = 0;
  let onQuiet: (() => void) | null = null;
  server.on('session', (session) => {
    // Known defect: an HTTP/2 client resetting its TCP connection emits 'error' on the
    // session adapter; without a listener the process dies.
    session.on('error', (err: Error) => logger.debug({ err: err.message, code: (err as { code?: string }).code }, 'client session error'));
    peers.track(session);
    quic.session(session);
    if (session.alpnProtocol === 'h2') return;
    quicOpen++;
    session.once('close', () => {
      if (--quicOpen === 0) onQuiet?.();
    });
  });
  server.on('stream', (stream, headers, flags) => {
    quic.stream(stream);
    const tlsSocket = state.coverage !== null || state.spec.clientAuth !== null ? tlsSocketOfStream(stream) : null;
    run(createStreamExchange(stream, headers, flags, { peers, altSvc: h3Uncovered(tlsSocket) ? 'clear' : state.altSvc }), tlsSocket);
  });
  // Requests arrive only once listening, when the TCP guard (and its drain state) exists.
  let http1: Http1Drain = NOT_DRAINING;
  server.on('request', (req, res) =>
    run(createHttp1Exchange(req, res, state.coverage !== null && h3Uncovered(req.socket) ? 'clear' : state.altSvc, http1), req.socket),
  );

  // HTTP/1.1 Upgrade and CONNECT leave node's parser through the node:http2 server's own
  // events (the library forwards neither): WebSocket and CONNECT tunnels (tunnel/).
  // A tunnel never finishes by itself, so close() destroys those still open once the drain is over.
  const tunnelSockets = new Set<Socket>();
  const tunnel = (socket: Socket): Socket => {
    tunnelSockets.add(socket);
    socket.once('close', () => tunnelSockets.delete(socket));
    return socket;
  };
  const tunnels = (h2: Http2SecureServer): void => {
    h2.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => run(createHttp1TunnelExchange('upgrade', req, tunnel(socket), head, state.altSvc), socket));
    // node's HTTP/2 compat layer emits 'connect' too (request, response) for an HTTP/2 CONNECT
    // once a listener exists; those streams also reach the library's 'stream' event, which
    // answers them (405): ignored here.
    h2.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      if (req.httpVersionMajor === 1) run(createHttp1TunnelExchange('connect', req, tunnel(socket), head, state.altSvc), socket);
    });
  };
  let h2: Http2SecureServer | null = null;
  const tcp = await listen(server, port, spec.address, ctx, (tcpServer) => {
    h2 = tcpServer;
    applyTcpTls(tcpServer, spec);
    watchClientCertificates(tcpServer, () => state.spec.clientAuth);
    answerHttp1ClientErrors(tcpServer, () => state.altSvc);
    markH3Coverage(tcpServer, () => state.coverage);
    tunnels(tcpServer);
  });
  http1 = tcp.http1;
  const h2Server = h2 as unknown as Http2SecureServer;
  const boundPort = server.address()?.port ?? port;
  server.on('error', (err: Error) => logger.error({ err: err.message, address: spec.address, port: boundPort }, 'listener error'));

  const quiet = (timeoutMs: number): Promise<void> => {
    if (quicOpen === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      function done(): void {
        clearTimeout(timer);
        onQuiet = null;
        resolve();
      }
      onQuiet = done;
    });
  };

  let closing: Promise<void> | null = null;
  /** False from the cut on: a connection handed over then is refused (nothing would cut it). */
  let accepting = true;
  return {
    port: boundPort,
    inflight,
    accept: (socket) => {
      if (accepting) h2Server.emit('connection', socket);
      else socket.destroy();
    },
    applyLimits: () => tcp.apply(),
    updateTls: (next) => applyTcpTls(h2Server, next),
    close(drainMs: number, untilQuiet = false): Promise<void> {
      closing ??= (async () => {
        const startedAt = performance.now();
        quic.drain();
        tcp.drain();
        const running = inflight.count;
        await inflight.idle(drainMs);
        if (tunnelSockets.size > 0) {
          for (const socket of tunnelSockets) socket.destroy();
          // Their requests end as the relays see the close (access-log lines included).
          await inflight.idle(TUNNEL_CLOSE_WAIT_MS);
        }
        const cut = inflight.count;
        // `inflight`: running when the drain began; `cut`: still running at its end (reset now).
        if (running > 0 || cut > 0) logger.info({ address: spec.address, port: boundPort, drainMs, inflight: running, cut }, 'listener drained');
        if (cut > 0) tcp.cut();
        if (untilQuiet) await quiet(Math.max(0, drainMs - (performance.now() - startedAt)));
        accepting = false;
        await quic.cut(CUT_WAIT_MS);
        await server.close();
        // Connections the drain left (idle keep-alives, unfinished handshakes) end with it.
        tcp.cut();
      })();
      return closing;
    },
  };
}

async function refuseWithoutClientCert(exchange: Exchange): Promise<void> {
  const head = exchange.head;
  const request = {
    protocol: exchange.protocol,
    method: head.method,
    path: head.path,
    authority: head.authority ?? headerValue(head.headers, 'host'),
    requestId: headerValue(head.headers, 'x-request-id'),
    accept: headerValue(head.headers, 'accept'),
  };
  answerIngressReject(exchange.response, request, 421, 'client_cert_required', performance.now());
}

/**
 * Binds the QUIC side; the TCP guard and TLS material (`onTcpServer`) are attached to the
 * library's (detached) node:http2 server right after `listen()` returns, before it reports
 * listening. A throw from `onTcpServer` rejects (nothing left open).
 */
function listen(server: Http3SecureServer, port: number, address: string, ctx: GuardContext, onTcpServer: (h2: Http2SecureServer) => void): Promise<TcpGuard> {
  return new Promise((resolve, reject) => {
    let tcp: TcpGuard | null = null;
    const onError = (err: Error): void => {
      server.off('listening', onListening);
      // The library already tore the UDP side down (its startup abort path); close() is a
      // no-op safety net.
      void server.close().finally(() => reject(err));
    };
    const onListening = (): void => {
      server.off('error', onError);
      if (tcp) resolve(tcp);
      else onError(new Error('listener started without its TCP guard'));
    };
    server.once('error', onError);
    server.once('listening', onListening);
    try {
      server.listen(port, address);
      const h2 = tcpServerOf(server);
      if (h2) {
        onTcpServer(h2);
        tcp = guardTcpServer(h2, ctx);
      }
      // No node:http2 server yet means the library failed before creating it: its 'error'
      // event follows and rejects. One missing after 'listening' is refused there.
    } catch (err) {
      server.off('error', onError);
      server.off('listening', onListening);
      void server.close().finally(() => reject(err));
    }
  });
}
