/**
 * The compiled route index, built once per generation; lookup never scans all routes.
 *
 *   Host buckets: a map of exact hosts, a map of wildcard suffixes (`*.example.com` is filed
 *   under `example.com`), and the host-agnostic bucket. For a request host at most one exact
 *   bucket, the wildcard buckets of its proper suffixes (walking its labels, longest first;
 *   never the host itself, so never the apex) and the host-agnostic bucket are relevant.
 *   Inside a bucket: a map from path prefix to its routes, sorted by the remaining tie-breaks
 *   (method-specific, constrained, upstream name — route-rank.ts).
 *
 *   Lookup: the request path's segment-boundary prefixes longest first (`/a/b/c`, `/a/b`,
 *   `/a`, `/`), and for each prefix the relevant buckets in host precedence order (exact →
 *   longer wildcard → shorter wildcard → host-agnostic). The first route whose method and
 *   matchers hold wins — exactly the order of route-rank.ts, so the longest prefix wins across
 *   buckets and ties fall to host, then method, then matchers, then name.
 *
 * Cost: O(host labels + path segments × relevant buckets) steps, independent of the number of
 * routes; a map is probed (and a string sliced) only when the bucket holds a prefix of exactly
 * that length (per-bucket length flags; likewise wildcard suffix lengths), so a typical lookup
 * makes one or two map probes. Matchers run only on routes that survived host/path/method
 * narrowing.
 */
import type { ConfigIssue, Mirror, Route, TrafficSplit } from '@spooky/config';
import { NO_ATTRIBUTES, type RouteAttributes } from './request-attributes.ts';
import { compileRouteMatchers, type RouteMatchers } from './route-matchers.ts';
import { compareRoutes, decidingRule, type RankedRoute, type TieBreakRule } from './route-rank.ts';
import { createTrafficSplitter, type TrafficSplitter } from './traffic-split.ts';

export interface RouteEntry extends RankedRoute {
  /** Upstream name owning the route (metrics and logs call it the route). */
  readonly upstream: string;
  readonly host: string | null;
  readonly pathPrefix: string;
  readonly method: string | null;
  /** Header/query/cookie matchers; null = unconstrained. */
  readonly matchers: RouteMatchers | null;
  readonly constrained: boolean;
  /** Where matching requests go by weight; null = to `upstream` itself. */
  readonly split: TrafficSplitter | null;
  /** Fire-and-forget copies (mirroring/); null = none. */
  readonly mirror: Mirror | null;
}

export interface RouteInput {
  readonly upstream: string;
  readonly route: Route;
  readonly trafficSplit?: readonly TrafficSplit[];
  readonly mirror?: Mirror | null;
}

/** Why a request resolved as it did (the `spooky-route` debug trace). */
export interface RouteDecision {
  readonly winner: RouteEntry | null;
  /** Routes whose host, path, method and matchers all hold, best first (at most 8 listed). */
  readonly candidates: readonly RouteEntry[];
  /** How many routes matched on host and path before method and matchers were tested. */
  readonly narrowed: number;
  /** The tie-break between the winner and the runner-up; `only_candidate` / `no_match` otherwise. */
  readonly rule: TieBreakRule | 'only_candidate' | 'no_match';
}

export interface RouteTable {
  readonly size: number;
  /**
   * The winning route, or null (→ 404 `no_route`). `host` normalised (or null), `path` =
   * matchingPath(target), `method` uppercase; `attrs` feeds matchers (absent = a request
   * with no headers, query or cookies).
   */
  lookup(host: string | null, path: string, method: string, attrs?: RouteAttributes): RouteEntry | null;
  /** Same answer as lookup, plus the candidates and the deciding rule. Slow path: debug only. */
  explain(host: string | null, path: string, method: string, attrs?: RouteAttributes): RouteDecision;
}

interface HostBucket {
  readonly byPrefix: Map<string, RouteEntry[]>;
  maxPrefixLength: number;
  /** lengths[n] = 1 when some prefix of this bucket is n characters long (probe filter). */
  lengths: Uint8Array;
}

const MAX_LISTED = 8;

export function compileRouteTable(routes: readonly RouteInput[], issues: ConfigIssue[] = []): RouteTable {
  const exact = new Map<string, HostBucket>();
  const wildcard = new Map<string, HostBucket>();
  const any: HostBucket = newBucket();
  /** wildcardLengths[n] = 1 when some wildcard suffix is n characters long (probe filter). */
  let wildcardLengths: Uint8Array = new Uint8Array(0);
  const all: HostBucket[] = [any];
  const bucketFor = (map: Map<string, HostBucket>, key: string): HostBucket => {
    let b = map.get(key);
    if (b === undefined) {
      b = newBucket();
      map.set(key, b);
      all.push(b);
    }
    return b;
  };

  for (const input of routes) {
    const { upstream, route } = input;
    const matchers = compileRouteMatchers(route, `/upstream/${upstream}/route`, issues);
    const entry: RouteEntry = {
      upstream,
      host: route.host ?? null,
      pathPrefix: route.path_prefix ?? '/',
      method: route.method ?? null,
      matchers,
      constrained: matchers !== null,
      split: createTrafficSplitter(input.trafficSplit ?? []),
      mirror: input.mirror ?? null,
    };
    let bucket = any;
    if (entry.host !== null) {
      if (entry.host.startsWith('*.')) {
        const suffix = entry.host.slice(2);
        bucket = bucketFor(wildcard, suffix);
        wildcardLengths = mark(wildcardLengths, suffix.length);
      } else {
        bucket = bucketFor(exact, entry.host);
      }
    }
    const list = bucket.byPrefix.get(entry.pathPrefix);
    if (list === undefined) bucket.byPrefix.set(entry.pathPrefix, [entry]);
    else list.push(entry);
    bucket.maxPrefixLength = Math.max(bucket.maxPrefixLength, entry.pathPrefix.length);
    bucket.lengths = mark(bucket.lengths, entry.pathPrefix.length);
  }
  for (const b of all) for (const list of b.byPrefix.values()) list.sort(compareRoutes);

  // Lookups are synchronous, so one scratch list per table is safe to reuse.
  const scratch: HostBucket[] = [];

  /** The buckets a host can match, in host precedence order, into `out`. */
  function relevantBuckets(host: string | null, out: HostBucket[]): HostBucket[] {
    out.length = 0;
    if (host !== null) {
      const e = exact.get(host);
      if (e !== undefined) out.push(e);
      if (wildcard.size > 0) {
        // Proper suffixes only, longest first: a.b.example.com → b.example.com, example.com, com.
        // Starting at index 1: a host starting with '.' has no label before its first dot.
        for (let dot = host.indexOf('.', 1); dot !== -1; dot = host.indexOf('.', dot + 1)) {
          if (wildcardLengths[host.length - dot - 1] !== 1) continue;
          const w = wildcard.get(host.slice(dot + 1));
          if (w !== undefined) out.push(w);
        }
      }
    }
    if (any.maxPrefixLength > 0) out.push(any);
    return out;
  }
  /** Precomputed bucket lists of the exact hosts (the common case: one map probe per host). */
  const exactRelevant = new Map<string, HostBucket[]>();
  for (const host of exact.keys()) exactRelevant.set(host, relevantBuckets(host, []));

  return {
    size: routes.length,
    lookup(host, path, method, attrs = NO_ATTRIBUTES) {
      if (path.charCodeAt(0) !== 0x2f) return null;
      const buckets = (host === null ? undefined : exactRelevant.get(host)) ?? relevantBuckets(host, scratch);
      if (buckets.length === 0) return null;
      // cut = length of the candidate prefix; sliced only when some bucket has that length.
      let cut = path.length;
      for (;;) {
        let candidate: string | null = null;
        for (let b = 0; b < buckets.length; b++) {
          const bucket = buckets[b] as HostBucket;
          if (bucket.lengths[cut] !== 1) continue;
          candidate ??= cut === path.length ? path : path.slice(0, cut);
          const list = bucket.byPrefix.get(candidate);
          if (list === undefined) continue;
          for (let i = 0; i < list.length; i++) {
            const entry = list[i] as RouteEntry;
            if (entry.method !== null && entry.method !== method) continue;
            if (entry.matchers === null || entry.matchers.holds(attrs)) return entry;
          }
        }
        if (cut <= 1) return null;
        cut = path.lastIndexOf('/', cut - 1);
        if (cut <= 0) cut = 1;
      }
    },
    explain(host, path, method, attrs = NO_ATTRIBUTES) {
      const matched: RouteEntry[] = [];
      let narrowed = 0;
      if (path.charCodeAt(0) === 0x2f) {
        const buckets = relevantBuckets(host, []);
        for (const prefix of segmentPrefixes(path)) {
          for (const bucket of buckets) {
            for (const entry of bucket.byPrefix.get(prefix) ?? []) {
              narrowed++;
              if (entry.method !== null && entry.method !== method) continue;
              if (entry.matchers === null || entry.matchers.holds(attrs)) matched.push(entry);
            }
          }
        }
      }
      matched.sort(compareRoutes);
      const [winner = null, runnerUp] = matched;
      const rule = winner === null ? 'no_match' : runnerUp === undefined ? 'only_candidate' : (decidingRule(winner, runnerUp)?.rule ?? 'upstream_name');
      return { winner, candidates: matched.slice(0, MAX_LISTED), narrowed, rule };
    },
  };
}

/** `/a/b/c` → `/a/b/c`, `/a/b`, `/a`, `/` (segment boundaries, longest first). */
function segmentPrefixes(path: string): string[] {
  const out = [path];
  let cut = path.length;
  while (cut > 1) {
    cut = path.lastIndexOf('/', cut - 1);
    if (cut <= 0) cut = 1;
    out.push(path.slice(0, cut));
  }
  return out;
}

function newBucket(): HostBucket {
  return { byPrefix: new Map(), maxPrefixLength: 0, lengths: new Uint8Array(2) };
}

/** `flags` with flags[n] = 1, grown when needed. */
function mark(flags: Uint8Array, n: number): Uint8Array {
  let out = flags;
  if (n >= out.length) {
    out = new Uint8Array(Math.max(n + 1, out.length * 2));
    out.set(flags);
  }
  out[n] = 1;
  return out;
}
