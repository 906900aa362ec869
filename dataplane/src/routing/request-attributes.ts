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

  /** `target` is the request target as received (path + query). */
  constructor(headers: HeaderList, target: string) {
    this.#headers = headers;
    this.#target = target;
  }

  header(name: string): AttributeValues {
    this.#headerMap ??= indexHeaders(this.#headers);
    return this.#headerMap.get(name);
  }

  query(name: string): AttributeValues {
    this.#queryMap ??= parseQuery(this.#target);
    return this.#queryMap.get(name);
  }

  cookie(name: string): AttributeValues {
    this.#cookieMap ??= parseCookies(this.#headers);
    return this.#cookieMap.get(name);
  }
}

/** A request with no headers, query or cookies (lookups made without attributes). */
export const NO_ATTRIBUTES: RouteAttributes = {
  header: () => undefined,
  query: () => undefined,
  cookie: () => undefined,
};

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
