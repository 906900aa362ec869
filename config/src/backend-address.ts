/**
 * Backend address forms: `http://host[:port]` → HTTP/1.1, `https://host[:port]` → HTTP/2 (TLS,
 * ALPN h2), and the Rust Spooky shorthand `host:port` → https. No path, query or credentials.
 */

export interface BackendAddress {
  readonly scheme: 'http' | 'https';
  /** Hostname or IP; IPv6 without brackets. */
  readonly host: string;
  readonly port: number;
  /** Canonical form: `<scheme>://<host or [v6]>:<port>`. */
  readonly url: string;
}

/** Parses a backend address; null when it is not one of the accepted forms. */
export function parseBackendAddress(address: string): BackendAddress | null {
  const text = address.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return null;
  }
  const scheme = url.protocol === 'http:' ? 'http' : url.protocol === 'https:' ? 'https' : null;
  if (!scheme || url.hostname === '') return null;
  if (url.username || url.password || url.search || url.hash) return null;
  if (url.pathname !== '/' && url.pathname !== '') return null;
  if (withScheme.endsWith('/')) return null;
  const port = url.port === '' ? (scheme === 'http' ? 80 : 443) : Number(url.port);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return { scheme, host, port, url: `${scheme}://${hostPart}:${port}` };
}
