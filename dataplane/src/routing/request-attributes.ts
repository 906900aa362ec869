/**
 * The request attributes route matchers read: headers, query parameters and cookies, each
 * parsed at most once per request and only when a route with matchers is actually tested
 * (the host/path/method narrowing comes first). One instance per request, built by
 * resolveRoute; never shared across requests.
 *
 *  - headers: names lowercased; a name sent several times has several values.
 *  - query: the target's query (before any `#`), form-decoded like URLSearchParams (`%XX`
 *    and `+` = space); a repeated name has several values.
 *  - cookies: every `cookie` header, split on `;`, `name=value` pairs trimmed, values as sent
 *    (no decoding); pairs without `=` are ignored; a repeated name has several values.
 * A matcher holds when ANY value of its name matches (see route-matchers.ts).
 *
 * Cost: the first few header / cookie reads scan the header list for that one name (no map, no
 * per-header lowercasing, one small array when the name is present); a request whose routes
 * ask for more names than that gets the full index built once instead.
 */
import type { HeaderList } from '../http/exchange.ts';

export type AttributeValues = readonly string[] | undefined;

export interface RouteAttributes {
  header(name: string): AttributeValues;
  query(name: string): AttributeValues;
  cookie(name: string): AttributeValues;
}

export class RequestAttributes implements RouteAttributes {
  readonly #headers: HeaderList;
  readonly #target: string;
  #headerMap: Map<string, string[]> | null = null;
  #queryMap: Map<string, string[]> | null = null;
  #cookieMap: Map<string, string[]> | null = null;
  /** header() / cookie() reads answered by a scan before the maps are built instead. */
  #scans = SCANS_BEFORE_INDEX;

  /** `target` is the request target as received (path + query). */
  constructor(headers: HeaderList, target: string) {
    this.#headers = headers;
    this.#target = target;
  }

  header(name: string): AttributeValues {
    if (this.#headerMap === null) {
      if (this.#scans > 0) {
        this.#scans--;
        return headerValues(this.#headers, name);
      }
      this.#headerMap = indexHeaders(this.#headers);
    }
    return this.#headerMap.get(name);
  }

  query(name: string): AttributeValues {
    this.#queryMap ??= parseQuery(this.#target);
    return this.#queryMap.get(name);
  }

  cookie(name: string): AttributeValues {
    if (this.#cookieMap === null) {
      if (this.#scans > 0) {
        this.#scans--;
        return cookieValues(this.#headers, name);
      }
      this.#cookieMap = parseCookies(this.#headers);
    }
    return this.#cookieMap.get(name);
  }
}

/** A request with no headers, query or cookies (lookups made without attributes). */
export const NO_ATTRIBUTES: RouteAttributes = {
  header: () => undefined,
  query: () => undefined,
  cookie: () => undefined,
};

/** Past this many header / cookie reads on one request, index them all instead of scanning. */
const SCANS_BEFORE_INDEX = 6;

/** The values of header `name` (lowercase), in order; undefined when absent. */
function headerValues(headers: HeaderList, name: string): AttributeValues {
  let out: string[] | undefined;
  for (let i = 0; i < headers.length; i++) {
    const [n, v] = headers[i] as [string, string];
    if (n !== name && (n.length !== name.length || n.toLowerCase() !== name)) continue;
    if (out === undefined) out = [v];
    else out.push(v);
  }
  return out;
}

/** The values of cookie `name` across all `cookie` headers (same rules as parseCookies). */
function cookieValues(headers: HeaderList, name: string): AttributeValues {
  let out: string[] | undefined;
  if (name === '') return out;
  const first = name.charCodeAt(0);
  for (let i = 0; i < headers.length; i++) {
    const [n, value] = headers[i] as [string, string];
    if (n !== 'cookie' && (n.length !== 6 || n.toLowerCase() !== 'cookie')) continue;
    for (let start = 0; start <= value.length; ) {
      let end = value.indexOf(';', start);
      if (end === -1) end = value.length;
      const eq = value.indexOf('=', start);
      if (eq !== -1 && eq < end) {
        // The pair's name, trimmed exactly as String.prototype.trim would.
        let a = start;
        let b = eq;
        while (a < b && isTrimmed(value.charCodeAt(a))) a++;
        while (b > a && isTrimmed(value.charCodeAt(b - 1))) b--;
        if (b - a === name.length && value.charCodeAt(a) === first && value.startsWith(name, a)) {
          const v = value.slice(eq + 1, end).trim();
          if (out === undefined) out = [v];
          else out.push(v);
        }
      }
      start = end + 1;
    }
  }
  return out;
}

/** The code units String.prototype.trim removes (WhiteSpace and LineTerminator). */
export function isTrimmed(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  if (c < 0xa0) return false;
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

function add(map: Map<string, string[]>, name: string, value: string): void {
  const list = map.get(name);
  if (list === undefined) map.set(name, [value]);
  else list.push(value);
}

function indexHeaders(headers: HeaderList): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const [name, value] of headers) add(map, name.toLowerCase(), value);
  return map;
}

function parseQuery(target: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  const q = target.indexOf('?');
  if (q === -1) return map;
  const hash = target.indexOf('#', q + 1);
  const query = hash === -1 ? target.slice(q + 1) : target.slice(q + 1, hash);
  if (query === '') return map;
  for (const [name, value] of new URLSearchParams(query)) add(map, name, value);
  return map;
}

function parseCookies(headers: HeaderList): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const [name, value] of headers) {
    if (name.toLowerCase() !== 'cookie') continue;
    for (const pair of value.split(';')) {
      const eq = pair.indexOf('=');
      if (eq === -1) continue;
      const cookie = pair.slice(0, eq).trim();
      if (cookie !== '') add(map, cookie, pair.slice(eq + 1).trim());
    }
  }
  return map;
}
