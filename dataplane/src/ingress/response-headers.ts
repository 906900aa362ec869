/**
 * Pure helpers shared by every ingress sink: the Alt-Svc value advertised on every response,
 * and the connection-specific fields HTTP/2 and HTTP/3 forbid in a response (RFC 9113 §8.2.2,
 * RFC 9114 §4.2). The pipeline already drops hop-by-hop fields; the sink drops them again
 * because node:http2 throws on them and quiche would reset the stream.
 */
import type { IncomingHeaders } from '@currentspace/http3';
import type { HeaderList } from '../http/exchange.ts';

/** `h3=":<port>"; ma=86400`: the port is the listener's bound port (UDP and TCP share it). */
export function altSvcValue(port: number): string {
  return `h3=":${port}"; ma=86400`;
}

const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

/** False for fields that must not be sent on an HTTP/2 or HTTP/3 response (or trailer). */
export function allowedOnMultiplexed(name: string): boolean {
  return !CONNECTION_SPECIFIC.has(name) && !name.startsWith(':');
}

/**
 * Builds the header map for the library's `respond()`: `:status` first, repeated names as
 * arrays (order within a name kept), connection-specific fields dropped, Alt-Svc replaced by
 * ours when `altSvc` is given.
 */
export function toResponseHeaderMap(status: number | null, headers: HeaderList, altSvc: string | null): IncomingHeaders {
  const out: IncomingHeaders = {};
  if (status !== null) out[':status'] = String(status);
  for (const [name, value] of headers) {
    if (!allowedOnMultiplexed(name)) continue;
    if (altSvc !== null && name === 'alt-svc') continue;
    const prev = out[name];
    if (prev === undefined) out[name] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[name] = [prev, value];
  }
  if (altSvc !== null) out['alt-svc'] = altSvc;
  return out;
}
