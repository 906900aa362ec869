/**
 * The reference implementation of routing: request → upstream name, written as a plain linear
 * scan that follows DATAPLANE.md "Routing" rule by rule. It is the spec in code: the control
 * plane uses it for behaviour diffs, and the data plane's compiled route index is
 * property-tested against it. Clarity wins over speed here; never optimise it.
 *
 * Rules, in the order they are applied:
 *  1. Host: `host`, else the `host` header; trimmed, port stripped, IPv6 brackets stripped,
 *     trailing dots stripped, lowercased; empty = no host (only host-agnostic routes match).
 *  2. A route's host matches when it is null (any host), equal to the request host, or
 *     `*.suffix` and the request host ends with `.suffix` (any depth, never the apex itself).
 *  3. Path: the target without query or fragment, with percent-escapes of unreserved bytes
 *     (ALPHA DIGIT - . _ ~) decoded. A prefix matches on segment boundaries: `/api` matches
 *     `/api` and `/api/x`, not `/apix`; `/` matches every path. A target not starting with `/`
 *     matches nothing.
 *  4. Method: null (any) or equal to the request method (compared uppercase).
 *  5. Matchers (headers, query, cookies): all must match; see `matcherHolds`. Query
 *     parameters are form-decoded (`+` = space); cookies are the `cookie` header's `name=value`
 *     pairs, values as sent. A name given several times holds each value; a matcher holds when
 *     ANY of them matches (`present: false` when there is none).
 *  6. Among matching routes: longest path prefix wins; ties broken in order by host-specific
 *     over host-agnostic → exact host over wildcard → longer wildcard → method-specific over
 *     any-method → constrained (has header/query/cookie matchers) over unconstrained →
 *     lexically smaller upstream name.
 * Traffic splits and mirrors are not resolved: the result is the upstream owning the route.
 * Upstreams without a route (split / mirror targets only) are never the result.
 */
import type { Config, Matcher } from './types.ts';

/** A request as routing sees it. `path` is the request target (query allowed). */
export interface ProbeRequest {
  readonly method: string;
  readonly host: string;
  readonly path: string;
  /** Header names in any case; one value per name (join repeated headers with `, `, cookies with `; `). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** The resolver of one config: call it per request. */
export type ReferenceResolver = (req: ProbeRequest) => string | null;

/** The upstream whose route `req` resolves to in `config`, or null (→ 404 no_route). */
export function resolveReference(config: Config, req: ProbeRequest): string | null {
  return referenceResolver(config)(req);
}

/**
 * Prepares `config` once (regexes compiled) and returns a resolver. Reads routes defensively
 * (`?? null` / `?? []`) so a canonical document, where null members are left out, works too.
 */
export function referenceResolver(config: Config): ReferenceResolver {
  const routes: Candidate[] = [];
  for (const [upstream, up] of Object.entries(config.upstream)) {
    const route = up.route;
    if (!route) continue;
    const headers = route.headers ?? [];
    const query = route.query ?? [];
    const cookies = route.cookies ?? [];
    routes.push({
      upstream,
      host: route.host ?? null,
      prefix: route.path_prefix ?? '/',
      method: route.method ?? null,
      headers: headers.map(prepareMatcher),
      query: query.map(prepareMatcher),
      cookies: cookies.map(prepareMatcher),
      constrained: headers.length + query.length + cookies.length > 0,
    });
  }
  return (req) => {
    const facts = requestFacts(req);
    let best: Candidate | null = null;
    for (const route of routes) {
      if (!routeMatches(route, facts)) continue;
      if (best === null || compareCandidates(route, best) < 0) best = route;
    }
    return best === null ? null : best.upstream;
  };
}

interface PreparedMatcher {
  readonly name: string;
  /** `values`: every value sent under the name; empty = absent. */
  readonly test: (values: readonly string[]) => boolean;
}

interface Candidate {
  readonly upstream: string;
  readonly host: string | null;
  readonly prefix: string;
  readonly method: string | null;
  readonly headers: readonly PreparedMatcher[];
  readonly query: readonly PreparedMatcher[];
  readonly cookies: readonly PreparedMatcher[];
  readonly constrained: boolean;
}

interface RequestFacts {
  readonly host: string | null;
  /** null when the target does not start with `/`. */
  readonly path: string | null;
  readonly method: string;
  /** Lowercased names. */
  readonly headers: ReadonlyMap<string, readonly string[]>;
  readonly query: ReadonlyMap<string, readonly string[]>;
  readonly cookies: ReadonlyMap<string, readonly string[]>;
}

function routeMatches(route: Candidate, req: RequestFacts): boolean {
  return (
    hostMatches(route.host, req.host) &&
    req.path !== null &&
    prefixMatches(route.prefix, req.path) &&
    (route.method === null || route.method === req.method) &&
    route.headers.every((m) => m.test(req.headers.get(m.name) ?? [])) &&
    route.query.every((m) => m.test(req.query.get(m.name) ?? [])) &&
    route.cookies.every((m) => m.test(req.cookies.get(m.name) ?? []))
  );
}

export function hostMatches(routeHost: string | null, requestHost: string | null): boolean {
  if (routeHost === null) return true;
  if (requestHost === null) return false;
  if (routeHost.startsWith('*.')) {
    const suffix = routeHost.slice(1); // ".example.com"
    return requestHost.length > suffix.length && requestHost.endsWith(suffix);
  }
  return routeHost === requestHost;
}

export function prefixMatches(prefix: string, path: string): boolean {
  if (prefix === '/') return true;
  return path === prefix || path.startsWith(`${prefix}/`);
}

/** Negative when `a` beats `b` (both match the request). */
function compareCandidates(a: Candidate, b: Candidate): number {
  if (a.prefix.length !== b.prefix.length) return b.prefix.length - a.prefix.length;
  const aHost = a.host !== null;
  if (aHost !== (b.host !== null)) return aHost ? -1 : 1;
  const aWild = a.host?.startsWith('*.') ?? false;
  const bWild = b.host?.startsWith('*.') ?? false;
  if (aWild !== bWild) return aWild ? 1 : -1;
  if (aWild && bWild && a.host!.length !== b.host!.length) return b.host!.length - a.host!.length;
  if ((a.method !== null) !== (b.method !== null)) return a.method !== null ? -1 : 1;
  if (a.constrained !== b.constrained) return a.constrained ? -1 : 1;
  return a.upstream < b.upstream ? -1 : a.upstream > b.upstream ? 1 : 0;
}

/**
 * A matcher on the values sent under its name (empty = absent): `present: true` holds when
 * there is a value, `present: false` when there is none; `exact`, `prefix` and `regex`
 * (anchored to the whole value, `u` flag) hold when any value matches. Exactly one kind is
 * set (parseConfig checks it).
 */
export function matcherHolds(m: Matcher, values: readonly string[]): boolean {
  return prepareMatcher(m).test(values);
}

function prepareMatcher(m: Matcher): PreparedMatcher {
  let one: (value: string) => boolean;
  if (m.present !== undefined) {
    const want = m.present;
    return { name: m.name, test: (values) => (values.length > 0) === want };
  }
  if (m.exact !== undefined) {
    const exact = m.exact;
    one = (v) => v === exact;
  } else if (m.prefix !== undefined) {
    const prefix = m.prefix;
    one = (v) => v.startsWith(prefix);
  } else if (m.regex !== undefined) {
    const re = new RegExp(`^(?:${m.regex})$`, 'u');
    one = (v) => re.test(v);
  } else {
    one = () => false;
  }
  return { name: m.name, test: (values) => values.some(one) };
}

function requestFacts(req: ProbeRequest): RequestFacts {
  const headers = new Map<string, string[]>();
  for (const [name, value] of Object.entries(req.headers ?? {})) add(headers, name.toLowerCase(), value);
  const rawHost = req.host !== '' ? req.host : (headers.get('host')?.[0] ?? '');
  const { path, query } = splitTarget(req.path);
  return {
    host: normalizeHost(rawHost),
    path: path.startsWith('/') ? decodeUnreserved(path) : null,
    method: req.method.toUpperCase(),
    headers,
    query: queryValues(query),
    cookies: cookieValues(headers.get('cookie') ?? []),
  };
}

/** Trim, strip IPv6 brackets or a `:port`, strip trailing dots, lowercase; '' → null. */
export function normalizeHost(raw: string): string | null {
  let h = raw.trim();
  if (h.startsWith('[')) {
    const close = h.indexOf(']');
    h = close === -1 ? h.slice(1) : h.slice(1, close);
  } else if (h.indexOf(':') !== -1 && h.indexOf(':') === h.lastIndexOf(':')) {
    h = h.slice(0, h.indexOf(':')); // host:port; several colons = a bare IPv6 literal
  }
  while (h.endsWith('.')) h = h.slice(0, -1);
  h = h.toLowerCase();
  return h === '' ? null : h;
}

function splitTarget(target: string): { path: string; query: string } {
  const hash = target.indexOf('#');
  const noFragment = hash === -1 ? target : target.slice(0, hash);
  const q = noFragment.indexOf('?');
  return q === -1 ? { path: noFragment, query: '' } : { path: noFragment.slice(0, q), query: noFragment.slice(q + 1) };
}

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/** Decodes `%XX` escapes whose byte is unreserved; leaves every other escape as written. */
export function decodeUnreserved(path: string): string {
  return path.replace(/%([0-9A-Fa-f]{2})/g, (written, hex: string) => {
    const ch = String.fromCharCode(Number.parseInt(hex, 16));
    return UNRESERVED.test(ch) ? ch : written;
  });
}

function add(map: Map<string, string[]>, name: string, value: string): void {
  const list = map.get(name);
  if (list === undefined) map.set(name, [value]);
  else list.push(value);
}

/** Query parameters, form-decoded (`%XX`, `+` = space), every value of each name. */
function queryValues(query: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [name, value] of new URLSearchParams(query)) add(out, name, value);
  return out;
}

/** `a=1; b=2` → every value of each cookie name, values as sent; pairs without `=` ignored. */
function cookieValues(headers: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const header of headers) {
    for (const pair of header.split(';')) {
      const eq = pair.indexOf('=');
      const name = eq === -1 ? '' : pair.slice(0, eq).trim();
      if (name !== '') add(out, name, pair.slice(eq + 1).trim());
    }
  }
  return out;
}
