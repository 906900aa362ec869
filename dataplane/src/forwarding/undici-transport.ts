/**
 * BackendTransport over one undici Pool per backend: `https://` → allowH2 (TLS origins get
 * HTTP/2 via ALPN), `http://` → HTTP/1.1 keep-alive. undici is a transport only: no
 * BalancedPool, RetryAgent or interceptors — balancing and retries are Spooky's.
 * Uses `dispatch()` with the handler API (cheaper than `request()`).
 *
 * TLS identity is the backend's, never the client's: undici would otherwise derive SNI and
 * certificate verification from each request's Host header, and drop the connection whenever
 * that changes. So the connector (backend-connector.ts, shared with the health prober) pins
 * SNI to the backend hostname, and every request carries the same constant `servername`.
 */
import type { Readable } from 'node:stream';
import type { BackendTransport, UpstreamRequest, UpstreamResponse } from '../http/backend-transport.ts';
import type { HeaderList } from '../http/exchange.ts';
import { backendConnection } from './backend-connector.ts';
import { ForwardHandler } from './forward-handler.ts';
import { createGuardedPool } from './guarded-pool.ts';
import type { TransportSettings } from './transport-settings.ts';

/**
 * HTTP/2 flow-control windows of every upstream H2 connection (bench/README.md "undici HTTP/2
 * settings" and "HTTP/2 upstreams"). Connection window 4 MiB (undici: 512 KiB): 32 streams of
 * 64 KiB in flight no longer stall the origin for WINDOW_UPDATEs (−10–25 % CPU per 64 KiB /
 * 1 MiB GET). Stream window 1 MiB (undici: 256 KiB; the SETTINGS_INITIAL_WINDOW_SIZE we
 * advertise): nghttp2 sends a WINDOW_UPDATE each half window consumed, so a 1 MiB body cost
 * ≈ 8 socket writes and as many origin wake-ups, now ≈ 2. The connection window still bounds
 * what one connection may hold unread in the worker (4 MiB); one stream may now hold 1 MiB.
 */
export const H2_OPTIONS = Object.freeze({ connectionWindowSize: 4 * 1024 * 1024, initialWindowSize: 1024 * 1024 });

export function createUndiciTransport(address: string, settings: TransportSettings): BackendTransport {
  const { https, hostname, connect } = backendConnection(address, settings);
  const pool = createGuardedPool(address, {
    allowH2: https,
    connect,
    headersTimeout: settings.headersTimeoutMs,
    bodyTimeout: settings.bodyIdleTimeoutMs,
    h2Options: H2_OPTIONS,
  });
  const protocol = https ? 'h2' : 'h1';
  return {
    protocol,
    forward(request: UpstreamRequest): Promise<UpstreamResponse> {
      return new Promise((resolve, reject) => {
        const handler = new ForwardHandler(request, resolve, reject, settings.bodyTotalTimeoutMs);
        try {
          pool.dispatch(
            {
              path: request.path,
              method: request.method as 'GET',
              headers: flatten(request.headers, protocol),
              body: countedBody(request),
              // Constant per backend so undici never re-keys the connection on the Host header.
              servername: hostname,
            } as Parameters<typeof pool.dispatch>[0],
            handler,
          );
        } catch (err) {
          handler.onResponseError(null, err as Error);
        }
      });
    },
    close: () => pool.close(),
  };
}

/**
 * The request body as undici should read it: pulled chunk by chunk (never buffered, the
 * source stays paused until undici asks), counted at the source. undici's own onBodySent
 * can report the last HTTP/2 chunks after the response ended, too late for the access log.
 */
function countedBody(request: UpstreamRequest): Readable | AsyncIterable<Uint8Array> | null {
  const { body, onBodyBytes, onBodyEnd } = request;
  if (body === null || onBodyBytes === undefined) return body;
  return (async function* counted() {
    for await (const chunk of body as AsyncIterable<Uint8Array>) {
      onBodyBytes(chunk.byteLength);
      yield chunk;
    }
    onBodyEnd?.();
  })();
}

/** undici takes a flat [name, value, ...] list; H1 upstreams are told we accept trailers. */
function flatten(headers: HeaderList, protocol: 'h1' | 'h2'): string[] {
  const flat: string[] = [];
  for (const [name, value] of headers) flat.push(name, value);
  if (protocol === 'h1') flat.push('te', 'trailers');
  return flat;
}
