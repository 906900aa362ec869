/**
 * The request key consistent-hash (and sticky-cid) hashes, from `load_balancing.key`:
 *
 *   path          the request target as received, query included
 *   authority     `:authority`, else the Host header, as received
 *   method        the request method
 *   peer_ip       the client address (ours: really the client, not the listener's view of a proxy)
 *   bearer_token  the token of `authorization: Bearer <token>`, replaced by its FNV-1a-64
 *                 digest at once: the raw token is never kept, hashed into a ring or logged
 *   sticky-cid    the client connection's id; without one (HTTP/1.1, HTTP/2 over TCP) the
 *                 client address:port, which also names one connection
 *   header:<n>    the first value of header <n> (name matched case-insensitively)
 *   cookie:<n>    the first cookie <n>, value as sent (every `cookie` header, `;`-separated)
 *   query:<n>     the first query parameter <n>, form-decoded (`%XX`, `+` = space)
 *
 * When the configured source is absent or empty (and for a null key): authority, then the
 * path with query, then the method — so the key is never empty. Keys are the raw values (no
 * source prefix): a fallback value equal to a configured one only means the two requests
 * share a backend, and building a prefixed string per pick would cost more than the hash.
 */
import type { PickRequest } from './balancer.ts';
import { fnv1a64Hex } from './fnv1a64.ts';

export type KeyExtractor = (request: PickRequest | null) => string;

/** Compiles a `load_balancing.key` (already validated by the config schema) into an extractor. */
export function compileKeyExtractor(spec: string | null): KeyExtractor {
  const source = sourceOf(spec);
  return (request) => {
    if (request === null) return '';
    const value = source(request);
    return value !== null && value !== '' ? value : fallbackKey(request);
  };
}

type Source = (request: PickRequest) => string | null;

function sourceOf(spec: string | null): Source {
  if (spec === null) return () => null;
  const colon = spec.indexOf(':');
  if (colon > 0) {
    const kind = spec.slice(0, colon);
    const name = spec.slice(colon + 1);
    if (kind === 'header') {
      const lower = name.toLowerCase();
      return (r) => present(headerValue(r, lower));
    }
    if (kind === 'cookie') return (r) => present(cookieValue(r, name));
    if (kind === 'query') return (r) => present(queryValue(r.head.path, name));
  }
  switch (spec) {
    case 'path':
      return (r) => present(r.head.path);
    case 'authority':
      return (r) => present(authorityOf(r));
    case 'method':
      return (r) => present(r.head.method);
    case 'peer_ip':
      return (r) => present(r.remoteAddress);
    case 'bearer_token':
      return (r) => {
        const token = bearerToken(r);
        return token === null ? null : fnv1a64Hex(token);
      };
    case 'sticky-cid':
      return connectionKey;
    default:
      return () => null;
  }
}

function present(value: string | null | undefined): string | null {
  return value === null || value === undefined || value === '' ? null : value;
}

/** authority → path with query → method; never empty. */
export function fallbackKey(request: PickRequest): string {
  return present(authorityOf(request)) ?? present(request.head.path) ?? request.head.method;
}

function connectionKey(r: PickRequest): string | null {
  if (r.connectionId !== undefined && r.connectionId !== null && r.connectionId !== '') return r.connectionId;
  if (r.remoteAddress === null) return null;
  return `${r.remoteAddress}:${r.remotePort ?? ''}`;
}

function authorityOf(r: PickRequest): string | null {
  return r.head.authority !== null && r.head.authority !== '' ? r.head.authority : headerValue(r, 'host');
}

function headerValue(r: PickRequest, lowerName: string): string | null {
  const headers = r.head.headers;
  for (let k = 0; k < headers.length; k++) {
    const entry = headers[k] as readonly [string, string];
    if (entry[0] === lowerName) return entry[1];
  }
  return null;
}

function bearerToken(r: PickRequest): string | null {
  const auth = headerValue(r, 'authorization');
  if (auth === null || auth.length < 8 || auth.slice(0, 7).toLowerCase() !== 'bearer ') return null;
  const token = auth.slice(7).trim();
  return token === '' ? null : token;
}

function cookieValue(r: PickRequest, wanted: string): string | null {
  for (const [name, header] of r.head.headers) {
    if (name !== 'cookie') continue;
    for (const pair of header.split(';')) {
      const eq = pair.indexOf('=');
      if (eq < 0) continue;
      if (pair.slice(0, eq).trim() === wanted) return pair.slice(eq + 1).trim();
    }
  }
  return null;
}

function queryValue(target: string, wanted: string): string | null {
  const q = target.indexOf('?');
  if (q < 0) return null;
  const hash = target.indexOf('#', q);
  const query = target.slice(q + 1, hash < 0 ? undefined : hash);
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const rawName = eq < 0 ? part : part.slice(0, eq);
    if (formDecode(rawName) !== wanted) continue;
    return eq < 0 ? '' : formDecode(part.slice(eq + 1));
  }
  return null;
}

function formDecode(text: string): string {
  const plain = text.includes('+') ? text.replaceAll('+', ' ') : text;
  if (!plain.includes('%')) return plain;
  try {
    return decodeURIComponent(plain);
  } catch {
    return plain; // malformed escapes: the bytes as sent still key the request consistently
  }
}
