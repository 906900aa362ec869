/**
 * One open listener on address:port: a TCP socket of its own (TLS: HTTP/2 and HTTP/1.1),
 * open for the listener's whole life, and a @currentspace/http3 server (listener-server.ts)
 * whose UDP socket serves HTTP/3 and whose node:http2 server gets every connection the TCP
 * socket accepts. Under node:cluster the TCP socket is shared through the primary like any
 * net.Server's.
 *
 * A new default certificate (`prepareSwap`) closes no socket: a second library server binds
 * the same UDP port beside the first (the library sets SO_REUSEPORT on its UDP sockets), new
 * TCP connections go to it from the swap's commit on, and the old server drains (see
 * listener-server.ts) and closes. So a certificate rotation refuses no TCP connection, in a
 * single process or under `--workers` (where each worker swaps its own server and the shared
 * TCP socket never closes), and connections open before it keep the certificate they were
 * made with.
 *
 * Limits of the library (0.9.0): one certificate per QUIC server (no SNI selection, no
 * reload, no client certificates), so HTTP/3 always serves the default certificate and a new
 * default certificate means a new QUIC server. Until the old one has closed, the kernel still
 * hashes part of the new QUIC connections to its socket: they are served with the old
 * certificate (the old server keeps serving every connection it gets until none is open, up
 * to the drain bound). The TCP side is node's own http2 server: SNI certificates, client
 * certificates and in-place reloads are applied there (tcp/tcp-tls-contexts.ts).
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
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { InflightTracker } from './inflight-tracker.ts';
import { warnIfPathMtuAboveSafe } from './h3/path-mtu-warning.ts';
import { shareStreamTeardownError } from './h3/stream-teardown.ts';
import { ConnectionAdmission } from './limits/connection-admission.ts';
import { NO_CONNECTION_EVENTS } from './limits/connection-metrics.ts';
import type { GuardContext } from './limits/guard-context.ts';
import { type ExchangeHandler, type ListenerServer, type ListenerState, openListenerServer } from './listener-server.ts';
import type { ListenerSpec } from './listener-spec.ts';
import { releaseQuicSockets } from './release-quic-sockets.ts';
import { altSvcValue } from './response-headers.ts';
import { H3Coverage } from './tcp/h3-coverage.ts';

export type { ExchangeHandler } from './listener-server.ts';
export type { ListenerSpec } from './listener-spec.ts';

export interface ServingListener {
  /** The spec now served (changes with updateTls and a committed swap). */
  readonly spec: ListenerSpec;
  /** The port actually bound (differs from spec.port only when spec.port is 0). */
  readonly boundPort: number;
  /** Requests in flight on this listener (every server of it); idle() as InflightTracker's. */
  readonly inflight: Pick<InflightTracker, 'count' | 'idle'>;
  /** Re-reads the shared admission's limits into the protocol settings (after a new generation). */
  applyLimits(): void;
  /**
   * Applies `spec`'s SNI certificates and client-certificate policy to the TCP side for new
   * handshakes (established connections are untouched). `spec` must have this listener's
   * address, port and default certificate (a new default goes through prepareSwap). Throws,
   * with nothing changed, when node rejects the material.
   */
  updateTls(spec: ListenerSpec): void;
  /**
   * A new default certificate (and with it everything else of `spec`; same address and port):
   * opens the server that will serve it, beside the current one — the only step that can fail
   * (rejects, nothing changed). Nothing is served differently until the swap's commit();
   * abort() undoes it. `drainMs` bounds the old server's drain after the commit.
   */
  prepareSwap(spec: ListenerSpec, drainMs: number): Promise<CertificateSwap>;
  /**
   * Drains (see listener-server.ts): in-flight requests may finish for up to drainMs, then the
   * sockets close and whatever still runs is cut. Resolves once closed. Idempotent (the
   * first bound wins).
   */
  close(drainMs: number): Promise<void>;
}

/** A prepared certificate swap of one listener. Call exactly one of the two. */
export interface CertificateSwap {
  /** Never throws: new TCP connections get the new server; the old one drains, then closes. */
  commit(): void;
  /** Closes the new server; the old one keeps serving as it did. */
  abort(): Promise<void>;
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
  const state: ListenerState = { spec, altSvc: altSvcFor(spec, spec.port), coverage: coverageOf(spec), label: `${spec.address}:${spec.port}` };
  const ctx: GuardContext = { ...guards, label: () => state.label };
  const open = (s: ListenerSpec, port: number): Promise<ListenerServer> => openListenerServer(s, port, state, handler, logger, ctx);
  let active = await open(spec, spec.port);
  const boundPort = active.port;
  let tcp: Server;
  try {
    tcp = await listenTcp(spec.address, boundPort, (socket) => active.accept(socket));
  } catch (err) {
    await active.close(0);
    throw err;
  }
  tcp.on('error', (err: Error) => logger.error({ err: err.message, address: spec.address, port: boundPort }, 'listener error'));
  state.altSvc = altSvcFor(spec, boundPort);
  state.label = `${spec.address}:${boundPort}`;
  warnIfPathMtuAboveSafe(spec.address, logger); // a library defect no option avoids; see the file

  /** Servers retired by a swap, until closed. */
  const retiring = new Map<ListenerServer, Promise<void>>();
  const retire = (server: ListenerServer, drainMs: number): void => {
    const closed = server.close(drainMs, true).then(() => {
      releaseQuicSockets();
      logger.info({ address: spec.address, port: boundPort }, 'listener certificate swapped: previous server closed');
    });
    retiring.set(server, closed);
    void closed.finally(() => retiring.delete(server));
  };
  const adopt = (next: ListenerSpec): void => {
    state.spec = next;
    state.altSvc = altSvcFor(next, boundPort);
    state.coverage = coverageOf(next);
  };

  /** Servers of swaps prepared and not yet committed or aborted (closed with the listener). */
  const prepared = new Set<ListenerServer>();
  let closing: Promise<void> | null = null;
  return {
    get spec() {
      return state.spec;
    },
    boundPort,
    inflight: {
      get count() {
        let n = active.inflight.count;
        for (const s of retiring.keys()) n += s.inflight.count;
        return n;
      },
      idle: async (timeoutMs: number) => {
        await Promise.all([active, ...retiring.keys()].map((s) => s.inflight.idle(timeoutMs)));
      },
    },
    applyLimits: () => active.applyLimits(),
    updateTls(next: ListenerSpec): void {
      active.updateTls(next);
      adopt(next);
    },
    async prepareSwap(next: ListenerSpec, drainMs: number): Promise<CertificateSwap> {
      if (closing) throw new Error('listener is closing');
      const fresh = await open(next, boundPort);
      prepared.add(fresh);
      let settled = false;
      return {
        commit(): void {
          if (settled || closing) return;
          settled = true;
          prepared.delete(fresh);
          const old = active;
          active = fresh;
          adopt(next);
          retire(old, drainMs);
        },
        async abort(): Promise<void> {
          if (settled) return;
          settled = true;
          prepared.delete(fresh);
          await fresh.close(0);
          releaseQuicSockets();
        },
      };
    },
    close(drainMs: number): Promise<void> {
      closing ??= (async () => {
        const closingAt = performance.now();
        // New connections keep reaching the draining server until the drain is over (they
        // are served with GOAWAY / `Connection: close`), then the TCP socket stops accepting.
        await Promise.all([active.close(drainMs), ...retiring.values(), ...[...prepared].map((s) => s.close(0))]);
        await closeTcp(tcp);
        logger.info({ address: spec.address, port: boundPort, closeMs: Math.round(performance.now() - closingAt) }, 'listener closed');
      })();
      return closing;
    },
  };
}

/** Listens on address:port with a plain net.Server: TLS happens in the library's node:http2 server. */
function listenTcp(address: string, port: number, onConnection: (socket: Socket) => void): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer(onConnection);
    server.once('error', reject);
    server.listen(port, address, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/** Stops accepting; resolves once node reports the socket closed (every connection was cut before). */
function closeTcp(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

function coverageOf(spec: ListenerSpec): H3Coverage | null {
  return spec.sni.length > 0 ? new H3Coverage(spec.cert, spec.sni) : null;
}

/** `clear` on listeners that require client certificates (HTTP/3 cannot verify them). */
function altSvcFor(spec: ListenerSpec, port: number): string {
  return spec.clientAuth?.required ? 'clear' : altSvcValue(port);
}
