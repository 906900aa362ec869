/**
 * Pure: turn the header map the HTTP/3 library hands to its `stream` handler (HTTP/3 and
 * HTTP/2 alike) into a protocol-neutral RequestHead, enforcing the pseudo-header rules of
 * RFC 9114 §4.3.1 / RFC 9113 §8.3.1 that Spooky relies on:
 * exactly one `:method`, `:scheme`, `:path` (starting with `/`); at most one `:authority`;
 * no other pseudo-header. A violation is a 400 answered by ingress itself (the pipeline never
 * sees a request without a well-formed head).
 */
import type { IncomingHeaders } from '@currentspace/http3';
import type { HeaderList, RequestHead } from '../../http/exchange.ts';

export type HeadResult =
  | { readonly ok: true; readonly head: RequestHead }
  | { readonly ok: false; readonly reason: HeadRejection };

/** Closed vocabulary, sent as `spooky-reason` on the 400. */
export type HeadRejection =
  | 'pseudo_header_duplicate'
  | 'pseudo_header_missing'
  | 'pseudo_header_unknown'
  | 'pseudo_header_after_regular'
  | 'path_invalid';

const REQUIRED = [':method', ':scheme', ':path'] as const;
const KNOWN = new Set<string>([':method', ':scheme', ':path', ':authority']);

export function requestHeadFromHeaders(incoming: IncomingHeaders): HeadResult {
  const pseudo = new Map<string, string>();
  const headers: HeaderList = [];
  for (const name of Object.keys(incoming)) {
    const value = incoming[name];
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (lower.startsWith(':')) {
      if (!KNOWN.has(lower)) return reject('pseudo_header_unknown');
      if (Array.isArray(value) || pseudo.has(lower)) return reject('pseudo_header_duplicate');
      pseudo.set(lower, value);
      continue;
    }
    if (Array.isArray(value)) {
      for (const v of value) headers.push([lower, v]);
    } else {
      headers.push([lower, value]);
    }
  }
  for (const name of REQUIRED) {
    if (!pseudo.get(name)) return reject('pseudo_header_missing');
  }
  const path = pseudo.get(':path') as string;
  if (!path.startsWith('/')) return reject('path_invalid');
  return {
    ok: true,
    head: {
      method: pseudo.get(':method') as string,
      scheme: pseudo.get(':scheme') as string,
      authority: pseudo.get(':authority') ?? null,
      path,
      headers,
    },
  };
}

/** HTTP/1.1 over TLS: head from node:http's raw header list (names lowercased here). */
export function requestHeadFromHttp1(method: string, url: string, rawHeaders: readonly string[]): HeadResult {
  if (!url.startsWith('/')) return reject('path_invalid');
  const headers: HeaderList = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    headers.push([(rawHeaders[i] as string).toLowerCase(), rawHeaders[i + 1] as string]);
  }
  return { ok: true, head: { method, scheme: 'https', authority: null, path: url, headers } };
}

function reject(reason: HeadRejection): HeadResult {
  return { ok: false, reason };
}
