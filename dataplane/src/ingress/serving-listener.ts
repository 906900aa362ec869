/**
 * One open listener: a @currentspace/http3 server bound to address:port, which is a UDP socket
 * (HTTP/3) plus the library's TLS TCP listener on the same port number (HTTP/2 through the
 * `stream` event, HTTP/1.1 through the `request` event). Every request becomes an Exchange and
 * goes to the one handler.
 *
 * Limits of the library (0.9.0): one certificate per server (no SNI selection, no reload), so
 * a new certificate means a new server; a second server on a port already open fails with
 * EADDRINUSE from the TCP side even with reusePort.
 */
import type { IncomingMessage } from 'node:http';
import type { Http2SecureServer } from 'node:http2';
import type { Socket } from 'node:net';
import { createSecureServer, type Http3SecureServer } from '@currentspace/http3';
import type { Logger } from 'pino';
import type { Exchange } from '../http/exchange.ts';
import { createStreamExchange } from './h3/stream-exchange.ts';
import { PeerBook, tcpServerOf } from './h3/library-internals.ts';
import { createQuicGuard } from './h3/quic-connection-guard.ts';
import { shareStreamTeardownError } from './h3/stream-teardown.ts';
import { InflightTracker } from './inflight-tracker.ts';
import { ConnectionAdmission } from './limits/connection-admission.ts';
import { NO_CONNECTION_EVENTS } from './limits/connection-metrics.ts';
import type { GuardContext } from './limits/guard-context.ts';
import { guardTcpServer, type TcpGuard } from './tcp/tcp-connection-guard.ts';
import { altSvcValue } from './response-headers.ts';
import { createHttp1Exchange } from './tcp/http1-exchange.ts';
import { createHttp1TunnelExchange } from './tcp/http1-tunnel-exchange.ts';

/** After the drain, how long destroyed tunnels get for their requests to end. */
const TUNNEL_CLOSE_WAIT_MS = 1000;

/** Never throws; finishes the response (the pipeline's request handler). */
export type ExchangeHandler = (exchange: Exchange) => Promise<void>;

export interface ListenerSpec {
  readonly address: string;
  readonly port: number;
  readonly certPath: string;
  readonly keyPath: string;
  /** PEM contents. The key is held in memory only to (re)open the socket; never logged. */
  readonly cert: Buffer;
  readonly key: Buffer;
}

export interface ServingListener {
  readonly spec: ListenerSpec;
  /** The port actually bound (differs from spec.port only when spec.port is 0). */
  readonly boundPort: number;
  readonly inflight: InflightTracker;
  /** Re-reads the shared admission's limits into the protocol settings (after a new generation). */
  applyLimits(): void;
  /**
   * Lets in-flight requests finish (up to drainMs), then closes both sockets; WebSocket / CONNECT
   * tunnels still open then are closed (they hold the drain to its end). Idempotent.
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
  let label = `${spec.address}:${spec.port}`;
  const ctx: GuardContext = { ...guards, label: () => label };
  const quic = createQuicGuard(ctx);
  const peers = new PeerBook();
  const inflight = new InflightTracker();
  let altSvc = altSvcValue(spec.port);
  const run = (exchange: Exchange | null): void => {
    if (exchange) inflight.track(handler(exchange));
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
    run(createStreamExchange(stream, headers, flags, { peers, altSvc }));
  });
  server.on('request', (req, res) => run(createHttp1Exchange(req, res, altSvc)));

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
    h2.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => run(createHttp1TunnelExchange('upgrade', req, tunnel(socket), head, altSvc)));
    // node's HTTP/2 compat layer emits 'connect' too (request, response) for an HTTP/2 CONNECT
    // once a listener exists; those streams also reach the library's 'stream' event, which
    // answers them (405): ignored here.
    h2.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      if (req.httpVersionMajor === 1) run(createHttp1TunnelExchange('connect', req, tunnel(socket), head, altSvc));
    });
  };
  const tcp = await listen(server, spec, ctx, tunnels);
  const boundPort = server.address()?.port ?? spec.port;
  altSvc = altSvcValue(boundPort);
  label = `${spec.address}:${boundPort}`;
  server.on('error', (err: Error) => logger.error({ err: err.message, address: spec.address, port: boundPort }, 'listener error'));

  let closing: Promise<void> | null = null;
  return {
    spec,
    boundPort,
    inflight,
    applyLimits: () => tcp.apply(),
    close(drainMs: number): Promise<void> {
      closing ??= inflight.idle(drainMs).then(async () => {
        if (tunnelSockets.size > 0) {
          for (const socket of tunnelSockets) socket.destroy();
          // Their requests end as the relays see the close (access-log lines included).
          await inflight.idle(TUNNEL_CLOSE_WAIT_MS);
        }
        return server.close();
      });
      return closing;
    },
  };
}

/** Binds both sides; the TCP guard is attached right after `listen()` returns, before TCP binds. */
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
        tcp = guardTcpServer(h2, ctx);
        onTcpServer(h2);
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
