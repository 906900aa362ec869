/**
 * One open listener: a @currentspace/http3 server bound to address:port, which is a UDP socket
 * (HTTP/3) plus the library's TLS TCP listener on the same port number (HTTP/2 through the
 * `stream` event, HTTP/1.1 through the `request` event). Every request becomes an Exchange and
 * goes to the one handler.
 *
 * Closing drains first: GOAWAY to HTTP/2 sessions, `Connection: close` on HTTP/1.1 (idle
 * keep-alive connections closed at once), HTTP/3 connections closed as soon as they have no
 * request open (tcp/tcp-connection-guard.ts, h3/quic-connection-guard.ts); in-flight requests
 * run up to the drain bound; then what is left is cut (HTTP/3 connections closed, their
 * streams failed; HTTP/2 sessions and TCP sockets destroyed: the exchanges end as client
 * aborts, their upstream requests are cancelled) and the server closes. The cut is ours, not
 * the library's close(): that one drops QUIC streams without an event and waits for busy
 * HTTP/1.1 connections to end by themselves.
 *
 * Limits of the library (0.9.0): one certificate per QUIC server (no SNI selection, no
 * reload, no client certificates), so HTTP/3 always serves the default certificate and a new
 * default certificate means a new server; a second server on a port already open fails with
 * EADDRINUSE from the TCP side even with reusePort. The TCP side is node's own http2 server:
 * SNI certificates, client certificates and in-place reloads are applied there
 * (tcp/tcp-tls-contexts.ts).
 *
 * Client certificates exist only on the TCP side. On a listener that *requires* them, HTTP/3
 * requests are answered 421 (`client_cert_required`: retry over TLS/TCP, where a certificate
 * can be presented) and every response carries `Alt-Svc: clear`, so no client is steered to
 * a path without verification. With optional client certificates HTTP/3 requests proceed
 * as requests without a certificate.
 *
 * A TCP connection whose SNI name only an SNI certificate covers gets `Alt-Svc: clear` too:
 * over HTTP/3 it would meet the default certificate (tcp/h3-coverage.ts).
 */
import type { IncomingMessage } from 'node:http';
import type { Http2SecureServer } from 'node:http2';
import type { Socket } from 'node:net';
import { createSecureServer, type Http3SecureServer } from '@currentspace/http3';
import type { Logger } from 'pino';
import type { Exchange } from '../http/exchange.ts';
import { headerValue } from '../http/hop-by-hop.ts';
import { applyClientCertHeaders } from './client-cert-headers.ts';
import { PeerBook, tcpServerOf, tlsSocketOfStream } from './h3/library-internals.ts';
import { warnIfPathMtuAboveSafe } from './h3/path-mtu-warning.ts';
import { createQuicGuard } from './h3/quic-connection-guard.ts';
import { createStreamExchange } from './h3/stream-exchange.ts';
import { shareStreamTeardownError } from './h3/stream-teardown.ts';
import { InflightTracker } from './inflight-tracker.ts';
import { answerIngressReject } from './ingress-reject.ts';
import { ConnectionAdmission } from './limits/connection-admission.ts';
import { NO_CONNECTION_EVENTS } from './limits/connection-metrics.ts';
import type { GuardContext } from './limits/guard-context.ts';
import type { ListenerSpec } from './listener-spec.ts';
import { altSvcValue } from './response-headers.ts';
import { clientIdentityOf, watchClientCertificates } from './tcp/client-cert-identity.ts';
import { H3Coverage, h3Uncovered, markH3Coverage } from './tcp/h3-coverage.ts';
import { answerHttp1ClientErrors } from './tcp/http1-client-error.ts';
import { createHttp1Exchange } from './tcp/http1-exchange.ts';
import { createHttp1TunnelExchange } from './tcp/http1-tunnel-exchange.ts';
import { guardTcpServer, type Http1Drain, type TcpGuard } from './tcp/tcp-connection-guard.ts';
import { applyTcpTls } from './tcp/tcp-tls-contexts.ts';

/** After the drain, how long destroyed tunnels get for their requests to end. */
const TUNNEL_CLOSE_WAIT_MS = 1000;

export type { ListenerSpec } from './listener-spec.ts';

/** Never throws; finishes the response (the pipeline's request handler). */
export type ExchangeHandler = (exchange: Exchange) => Promise<void>;

export interface ServingListener {
  /** The spec now served (changes with updateTls). */
  readonly spec: ListenerSpec;
  /** The port actually bound (differs from spec.port only when spec.port is 0). */
  readonly boundPort: number;
  readonly inflight: InflightTracker;
  /** Re-reads the shared admission's limits into the protocol settings (after a new generation). */
  applyLimits(): void;
  /**
   * Applies `spec`'s SNI certificates and client-certificate policy to the TCP side for new
   * handshakes (established connections are untouched). `spec` must have this listener's
   * address, port and default certificate (a new default needs a new server). Throws, with
   * nothing changed, when node rejects the material.
   */
  updateTls(spec: ListenerSpec): void;
  /**
   * Drains (see above): in-flight requests may finish for up to drainMs, then both sockets
   * close and whatever still runs is cut (WebSocket / CONNECT tunnels still open then are
   * closed first: they hold the drain to its end). Resolves once closed. Idempotent (the first bound wins).
   */
  close(drainMs: number): Promise<void>;
}

/** Admission and metrics shared with the other listeners; the listener fills in its label. */
export type ListenerGuards = Omit<GuardContext, 'label'>;

/**
 * Resolves once UDP and TCP are both bound; rejects (nothing left open) when either fails.
 * Without `guards`, the listener has an admission of its own with the config defaults.
 */
export async function openServingListener(
  spec: ListenerSpec,
  handler: ExchangeHandler,
  logger: Logger,
  guards: ListenerGuards = { admission: new ConnectionAdmission(), events: NO_CONNECTION_EVENTS },
): Promise<ServingListener> {
  shareStreamTeardownError(); // once per process; see stream-teardown.ts
  const server = createSecureServer({ key: spec.key, cert: spec.cert, allowHTTP1: true });
  let current = spec;
  let label = `${spec.address}:${spec.port}`;
  const ctx: GuardContext = { ...guards, label: () => label };
  const quic = createQuicGuard(ctx);
  const peers = new PeerBook();
  const inflight = new InflightTracker();
  let altSvc = altSvcFor(spec, spec.port);
  let coverage = coverageOf(spec);
  /**
   * `tlsSocket`: the connection's TLS socket when client certificates are configured (else
   * null). Per request: one scan of the header names for the identity headers (forgery guard),
   * plus one property read for the identity on client-auth listeners.
   */
  const run = (exchange: Exchange | null, tlsSocket: object | null): void => {
    if (!exchange) return;
    const auth = current.clientAuth;
    if (exchange.protocol === 'h3' && auth?.required) {
      inflight.track(refuseWithoutClientCert(exchange));
      return;
    }
    applyClientCertHeaders(exchange.head.headers, current.strippedHeaders, auth ? clientIdentityOf(tlsSocket) : undefined, auth);
    inflight.track(handler(exchange));
  };

  server.on('session', (session) => {
    // Known defect: an HTTP/2 client resetting its TCP connection emits 'error' on the
    // session adapter; without a listener the process dies.
    session.on('error', (err: Error) => logger.debug({ err: err.message, code: (err as { code?: string }).code }, 'client session error'));
    peers.track(session);
    quic.session(session);
  });
  server.on('stream', (stream, headers, flags) => {
    quic.stream(stream);
    const tlsSocket = coverage !== null || current.clientAuth !== null ? tlsSocketOfStream(stream) : null;
    run(createStreamExchange(stream, headers, flags, { peers, altSvc: h3Uncovered(tlsSocket) ? 'clear' : altSvc }), tlsSocket);
  });
  // Requests arrive only once listening, when the TCP guard (and its drain state) exists.
  let http1: Http1Drain = NOT_DRAINING;
  server.on('request', (req, res) => run(createHttp1Exchange(req, res, coverage !== null && h3Uncovered(req.socket) ? 'clear' : altSvc, http1), req.socket));

  // HTTP/1.1 Upgrade and CONNECT leave node's parser through the node:http2 server's own
  // events (the library forwards neither): WebSocket and CONNECT tunnels (tunnel/).
  // Open tunnel connections: node's server.close() waits for them (they are still its
  // connections), and a tunnel never finishes by itself, so close() destroys those still open
  // once the drain is over.
  const tunnelSockets = new Set<Socket>();
  const tunnel = (socket: Socket): Socket => {
    tunnelSockets.add(socket);
    socket.once('close', () => tunnelSockets.delete(socket));
    return socket;
  };
  const tunnels = (h2: Http2SecureServer): void => {
    h2.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => run(createHttp1TunnelExchange('upgrade', req, tunnel(socket), head, altSvc), socket));
    // node's HTTP/2 compat layer emits 'connect' too (request, response) for an HTTP/2 CONNECT
    // once a listener exists; those streams also reach the library's 'stream' event, which
    // answers them (405): ignored here.
    h2.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      if (req.httpVersionMajor === 1) run(createHttp1TunnelExchange('connect', req, tunnel(socket), head, altSvc), socket);
    });
  };
  let h2: Http2SecureServer | null = null;
  const tcp = await listen(server, spec, ctx, (tcpServer) => {
    h2 = tcpServer;
    applyTcpTls(tcpServer, spec);
    watchClientCertificates(tcpServer, () => current.clientAuth);
    answerHttp1ClientErrors(tcpServer, () => altSvc);
    markH3Coverage(tcpServer, () => coverage);
    tunnels(tcpServer);
  });
  http1 = tcp.http1;
  const boundPort = server.address()?.port ?? spec.port;
  altSvc = altSvcFor(spec, boundPort);
  label = `${spec.address}:${boundPort}`;
  server.on('error', (err: Error) => logger.error({ err: err.message, address: spec.address, port: boundPort }, 'listener error'));
  warnIfPathMtuAboveSafe(spec.address, logger); // a library defect no option avoids; see the file

  let closing: Promise<void> | null = null;
  return {
    get spec() {
      return current;
    },
    boundPort,
    inflight,
    applyLimits: () => tcp.apply(),
    updateTls(next: ListenerSpec): void {
      if (h2) applyTcpTls(h2, next);
      current = next;
      altSvc = altSvcFor(next, boundPort);
      coverage = coverageOf(next);
    },
    close(drainMs: number): Promise<void> {
      closing ??= (async () => {
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
        await quic.cut(CUT_WAIT_MS);
        const closingAt = performance.now();
        await server.close();
        logger.info({ address: spec.address, port: boundPort, closeMs: Math.round(performance.now() - closingAt) }, 'listener closed');
      })();
      return closing;
    },
  };
}

/** How long the end of a drain waits for the library to report its HTTP/3 connection closes. */
const CUT_WAIT_MS = 1000;

const NOT_DRAINING: Http1Drain = { draining: false, responseDone: () => undefined };

function coverageOf(spec: ListenerSpec): H3Coverage | null {
  return spec.sni.length > 0 ? new H3Coverage(spec.cert, spec.sni) : null;
}

/** `clear` on listeners that require client certificates (HTTP/3 cannot verify them). */
function altSvcFor(spec: ListenerSpec, port: number): string {
  return spec.clientAuth?.required ? 'clear' : altSvcValue(port);
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
 * Binds both sides; the TCP guard and TLS material (`onTcpServer`) are attached right after
 * `listen()` returns, before TCP binds. A throw from `onTcpServer` rejects (nothing left open).
 */
function listen(server: Http3SecureServer, spec: ListenerSpec, ctx: GuardContext, onTcpServer: (h2: Http2SecureServer) => void): Promise<TcpGuard> {
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
      server.listen(spec.port, spec.address);
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
