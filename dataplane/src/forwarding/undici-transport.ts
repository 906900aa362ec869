/**
 * BackendTransport over one undici Pool per backend: `https://` → allowH2 (TLS origins get
 * HTTP/2 via ALPN), `http://` → HTTP/1.1 keep-alive. undici is a transport only: no
 * BalancedPool, RetryAgent or interceptors — balancing and retries are Spooky's.
 * Uses `dispatch()` with the handler API (cheaper than `request()`).
 */
import { Pool } from 'undici';
import type { BackendTransport, UpstreamRequest, UpstreamResponse } from '../http/backend-transport.ts';
import type { HeaderList } from '../http/exchange.ts';
import { ForwardHandler } from './forward-handler.ts';
import type { TransportSettings } from './transport-settings.ts';

export function createUndiciTransport(address: string, settings: TransportSettings): BackendTransport {
  const https = address.startsWith('https://');
  const pool = new Pool(address, {
    allowH2: https,
    connect: {
      timeout: settings.connectTimeoutMs,
      ...(https ? { rejectUnauthorized: settings.verifyCertificates } : {}),
      ...(https && settings.ca !== null ? { ca: settings.ca } : {}),
    },
    headersTimeout: settings.headersTimeoutMs,
    bodyTimeout: settings.bodyIdleTimeoutMs,
  });
  const protocol = https ? 'h2' : 'h1';
  return {
    protocol,
    forward(request: UpstreamRequest): Promise<UpstreamResponse> {
      return new Promise((resolve, reject) => {
        const handler = new ForwardHandler(request, resolve, reject);
        try {
          pool.dispatch(
            {
              path: request.path,
              method: request.method as 'GET',
              headers: flatten(request.headers, protocol),
              body: request.body,
            },
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

/** undici takes a flat [name, value, ...] list; H1 upstreams are told we accept trailers. */
function flatten(headers: HeaderList, protocol: 'h1' | 'h2'): string[] {
  const flat: string[] = [];
  for (const [name, value] of headers) flat.push(name, value);
  if (protocol === 'h1') flat.push('te', 'trailers');
  return flat;
}
