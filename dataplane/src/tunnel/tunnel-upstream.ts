/**
 * The backend side of a tunnel, on its own connection (never a pooled one: an upgraded
 * connection belongs to its tunnel until it closes).
 *
 * `connectTunnel`: TCP to the backend's host:port, plus TLS for `https://` backends when
 * `tls` is asked (ALPN `http/1.1` only — a WebSocket upgrade is an HTTP/1.1 exchange). SNI,
 * verification name, CAs and client certificate are the upstream's, as for its traffic
 * (`upstream_tls` + `upstream.<name>.tls`): SNI = `server_name` when set, else the backend
 * hostname, none for IP literals; Node verifies the certificate against that SNI name, else
 * the host. Bounded by `connectTimeoutMs` (TCP + TLS) and the signal.
 *
 * `readResponseHead`: the backend's response head, bounded by `headersTimeoutMs`, the
 * signal, and MAX_RESPONSE_HEAD_BYTES.
 *
 * Every failure is a SpookyError (classify-upstream-error.ts codes); the socket is destroyed
 * on failure and always carries an error listener.
 */

import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { abortError, SpookyError } from '../errors.ts';
import type { ClientCertificate } from '../forwarding/backend-connector.ts';
import { classifyUpstreamError } from '../forwarding/classify-upstream-error.ts';
import type { CancelSignal } from '../http/cancellation.ts';
import { parseResponseHead, type ResponseHeadParse } from './tunnel-wire.ts';

/** How tunnels reach HTTPS backends (the upstream's resolved TLS material). */
export interface TunnelTls {
  readonly verifyCertificates: boolean;
  /** PEM of the trusted CAs; null = the system roots. */
  readonly ca: string | null;
  /** SNI and verification name; null/absent = the backend host. */
  readonly serverName?: string | null;
  /** Client certificate for upstream mTLS; null/absent = none. */
  readonly clientCert?: ClientCertificate | null;
}

export interface TunnelConnect {
  /** Canonical backend address, `http(s)://host:port`. */
  readonly address: string;
  /** TLS for https:// backends (WebSocket); false = plain TCP whatever the scheme (CONNECT). */
  readonly tls: TunnelTls | null;
  readonly connectTimeoutMs: number;
  readonly signal: CancelSignal;
}

export function connectTunnel(options: TunnelConnect): Promise<Socket> {
  const { signal } = options;
  if (signal.aborted) return Promise.reject(abortError(signal));
  const url = new URL(options.address);
  const https = url.protocol === 'https:';
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = Number(url.port || (https ? 443 : 80));
  return new Promise((resolve, reject) => {
    const tls = https ? options.tls : null;
    const useTls = tls !== null;
    const sni = tls?.serverName ?? (isIP(host) === 0 ? host : null);
    const socket: Socket = tls !== null
      ? tlsConnect({
          host,
          port,
          ALPNProtocols: ['http/1.1'],
          rejectUnauthorized: tls.verifyCertificates,
          ...(tls.ca ? { ca: tls.ca } : {}),
          ...(sni !== null ? { servername: sni } : {}),
          ...(tls.clientCert ? { cert: tls.clientCert.cert, key: tls.clientCert.key } : {}),
        })
      : netConnect({ host, port });
    let settled = false;
    const done = (err: SpookyError | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.off(useTls ? 'secureConnect' : 'connect', onConnected);
      if (err === null) resolve(socket);
      else {
        socket.destroy();
        reject(err);
      }
    };
    const onConnected = (): void => done(null);
    const onAbort = (): void => done(abortError(signal));
    const timer = setTimeout(() => done(new SpookyError('upstream_timeout', 'tunnel connect timeout')), options.connectTimeoutMs);
    // The listener stays for the socket's life: a late error must never reach the process.
    socket.on('error', (err: Error) => done(classifyUpstreamError(err, false)));
    socket.once('close', () => done(new SpookyError('upstream_connect_failed', 'tunnel connection closed while connecting')));
    socket.once(useTls ? 'secureConnect' : 'connect', onConnected);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export type ResponseHead = Extract<ResponseHeadParse, { kind: 'head' }>;

/** Reads until the head is complete; the socket is left paused, its remaining bytes in `rest`. */
export function readResponseHead(socket: Socket, headersTimeoutMs: number, signal: CancelSignal): Promise<ResponseHead> {
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise((resolve, reject) => {
    let received: Buffer = Buffer.alloc(0);
    let settled = false;
    const done = (head: ResponseHead | null, err: SpookyError | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      socket.pause();
      if (head !== null) resolve(head);
      else {
        socket.destroy();
        reject(err ?? new SpookyError('internal', 'no head, no error'));
      }
    };
    const onData = (chunk: Buffer): void => {
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      const parsed = parseResponseHead(received);
      if (parsed.kind === 'head') done(parsed, null);
      else if (parsed.kind === 'invalid') done(null, new SpookyError('upstream_protocol_error', `tunnel response: ${parsed.reason}`));
    };
    const onError = (err: Error): void => done(null, classifyUpstreamError(err, true));
    const onClose = (): void => done(null, new SpookyError('upstream_reset', 'backend closed before its response head'));
    const onAbort = (): void => done(null, abortError(signal));
    const timer = setTimeout(() => done(null, new SpookyError('upstream_timeout', 'tunnel response head timeout')), headersTimeoutMs);
    socket.on('data', onData);
    socket.on('error', onError);
    socket.once('close', onClose);
    signal.addEventListener('abort', onAbort, { once: true });
    socket.resume();
  });
}
