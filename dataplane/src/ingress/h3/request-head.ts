/**
 * Pure: turn the header map the HTTP/3 library hands to its `stream` handler (HTTP/3 and
 * HTTP/2 alike) into a protocol-neutral RequestHead, enforcing the pseudo-header rules of
 * RFC 9114 §4.3.1 / RFC 9113 §8.3.1 that Spooky relies on:
 * exactly one `:method`, `:scheme`, `:path` (starting with `/`); at most one `:authority`;
 * no other pseudo-header; pseudo-headers before regular ones; `:scheme` a URI scheme; header
 * names non-empty tokens (no `:` inside a regular name); no value carrying NUL, CR or LF
 * (RFC 9113 §8.2.1, RFC 9114 §4.2: such a message is malformed, and forwarding it would let
 * a value split into two header lines on an HTTP/1.1 upstream). A violation is a 400
 * answered by ingress itself (the pipeline never sees a request without a well-formed head).
 * Path safety, methods and hosts are screening's (screening/screen-request.ts).
 */
import type { IncomingHeaders } from '@currentspace/http3';
import type { HeaderList, RequestHead } from '../../http/exchange.ts';
import type { HeadRejection } from '../../telemetry/reason-vocabulary.ts';

export type HeadResult =
  | { readonly ok: true; readonly head: RequestHead }
  | { readonly ok: false; readonly reason: HeadRejection };

/** Closed vocabulary (telemetry/reason-vocabulary.ts HEAD_REJECTIONS), sent as `spooky-reason` on the 400. */
export type { HeadRejection };

const KNOWN = new Set<string>([':method', ':scheme', ':path', ':authority']);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*$/;
/** NUL, LF, CR: never valid in a field value on any HTTP version. */
const FORBIDDEN_IN_VALUE = /[\0\n\r]/;
/**
 * Canonical array-index names (`"0"`, `"42"`) are listed first by Object.keys whatever their
 * arrival order, so their position says nothing about the order on the wire.
 */
const ARRAY_INDEX = /^(?:0|[1-9][0-9]*)$/;

export function requestHeadFromHeaders(incoming: IncomingHeaders): HeadResult {
  // The four pseudo-headers, undefined until seen (locals, not a Map: nothing per request).
  let method: string | undefined;
  let scheme: string | undefined;
  let path: string | undefined;
  let authority: string | undefined;
  const headers: HeaderList = [];
  let regularSeen = false;
  for (const name of Object.keys(incoming)) {
    const value = incoming[name];
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (lower.startsWith(':')) {
      if (!KNOWN.has(lower)) return reject('pseudo_header_unknown');
      const seen = lower === ':method' ? method : lower === ':scheme' ? scheme : lower === ':path' ? path : authority;
      if (Array.isArray(value) || seen !== undefined) return reject('pseudo_header_duplicate');
      if (regularSeen) return reject('pseudo_header_after_regular');
      if (typeof value !== 'string' || FORBIDDEN_IN_VALUE.test(value)) return reject('header_value_invalid');
      if (lower === ':method') method = value;
      else if (lower === ':scheme') scheme = value;
      else if (lower === ':path') path = value;
      else authority = value;
      continue;
    }
    if (!TOKEN.test(lower)) return reject('header_name_invalid');
    if (!ARRAY_INDEX.test(lower)) regularSeen = true;
    if (!Array.isArray(value)) {
      if (typeof value !== 'string' || FORBIDDEN_IN_VALUE.test(value)) return reject('header_value_invalid');
      headers.push([lower, value]);
      continue;
    }
    for (const v of value as readonly unknown[]) {
      if (typeof v !== 'string' || FORBIDDEN_IN_VALUE.test(v)) return reject('header_value_invalid');
      headers.push([lower, v]);
    }
  }
  // :method, :scheme and :path are required; an empty value counts as missing.
  if (!method || !scheme || !path) return reject('pseudo_header_missing');
  if (!path.startsWith('/')) return reject('path_invalid');
  if (!SCHEME.test(scheme)) return reject('scheme_invalid');
  return { ok: true, head: { method, scheme, authority: authority ?? null, path, headers } };
}

/**
 * HTTP/1.1 over TLS: head from node:http's raw header list (names lowercased here). node's
 * parser already refuses most malformed heads; the same name/value rules are re-checked here
 * so the contract does not depend on parser leniency flags.
 */
export function requestHeadFromHttp1(method: string, url: string, rawHeaders: readonly string[]): HeadResult {
  if (!url.startsWith('/')) return reject('path_invalid');
  const headers: HeaderList = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    const value = rawHeaders[i + 1] as string;
    if (!TOKEN.test(name)) return reject('header_name_invalid');
    if (FORBIDDEN_IN_VALUE.test(value)) return reject('header_value_invalid');
    headers.push([name, value]);
  }
  return { ok: true, head: { method, scheme: 'https', authority: null, path: url, headers } };
}

function reject(reason: HeadRejection): HeadResult {
  return { ok: false, reason };
}
