/**
 * The routing table of one generation: compileRouteTable turns the config's routes into
 * RouteEntry values and a RouteIndex (route-index.ts), and answers lookups in precedence
 * order (route-rank.ts).
 *
 *   Lookup: the request path's prefix cuts longest first (`/a/b/c`, `/a/b`, `/a`, `/`), and for
 *   each cut the relevant host buckets in precedence order (exact → longer wildcard → shorter
 *   wildcard → host-agnostic). The first route of that (bucket, prefix) group whose method and
 *   matchers hold wins — exactly the order of route-rank.ts, so the longest prefix wins across
 *   buckets and ties fall to host, then method, then matchers, then name.
 *
 * Cost: one pass over the host (none beyond a hash for an exact host) and one over the path up
 * to the longest configured prefix, then one hash probe per (cut, bucket) pair whose bucket
 * holds a prefix of that length — typically one to three probes, independent of the number of
 * routes. No strings are sliced and nothing is allocated. Matchers run only on routes that
 * survived host/path/method narrowing.
 */
import type { ConfigIssue, Mirror, Route, TrafficSplit } from '@spooky/config';
import { NO_ATTRIBUTES, type RouteAttributes } from './request-attributes.ts';
import { type Bucket, holdsLength, type IndexSeeds, RouteIndex } from './route-index.ts';
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

const MAX_LISTED = 8;

/** `seeds`: the index's hash seeds, random unless a test fixes them. */
export function compileRouteTable(routes: readonly RouteInput[], issues: ConfigIssue[] = [], seeds?: IndexSeeds): RouteTable {
  const entries: RouteEntry[] = routes.map((input) => {
    const { upstream, route } = input;
    const matchers = compileRouteMatchers(route, `/upstream/${upstream}/route`, issues);
    return {
      upstream,
      host: route.host ?? null,
      pathPrefix: route.path_prefix ?? '/',
      method: route.method ?? null,
      matchers,
      constrained: matchers !== null,
      split: createTrafficSplitter(input.trafficSplit ?? []),
      mirror: input.mirror ?? null,
    };
  });
  const index = new RouteIndex(entries, (group) => group.sort(compareRoutes), seeds);
  const cutLength = index.cutLength;
  const cutHash = index.cutHash;

  return {
    size: routes.length,
    lookup(host, path, method, attrs = NO_ATTRIBUTES) {
      if (path.charCodeAt(0) !== 0x2f) return null;
      const relevant = index.bucketsFor(host);
      const buckets = relevant.buckets;
      const count = relevant.count;
      if (count === 0) return null;
      for (let k = index.cuts(path, relevant) - 1; k >= 0; k--) {
        const length = cutLength[k] as number;
        for (let b = 0; b < count; b++) {
          const bucket = buckets[b] as Bucket<RouteEntry>;
          if (!holdsLength(bucket, length)) continue;
          const g = index.group(bucket, cutHash[k] as number, length, path);
          if (g === -1) continue;
          // Common case: the group's best route takes any method and has no matchers.
          const best = bucket.best[g] as RouteEntry;
          if (best.method === null && best.matchers === null) return best;
          const group = bucket.groups[g] as RouteEntry[];
          for (let i = 0; i < group.length; i++) {
            const entry = group[i] as RouteEntry;
            if (entry.method !== null && entry.method !== method) continue;
            if (entry.matchers === null || entry.matchers.holds(attrs)) return entry;
          }
        }
      }
      return null;
    },
    explain(host, path, method, attrs = NO_ATTRIBUTES) {
      const matched: RouteEntry[] = [];
      let narrowed = 0;
      if (path.charCodeAt(0) === 0x2f) {
        const relevant = index.bucketsFor(host);
        const buckets = relevant.buckets.slice(0, relevant.count);
        const n = index.cuts(path, relevant);
        for (let k = n - 1; k >= 0; k--) {
          const length = cutLength[k] as number;
          for (const bucket of buckets) {
            const g = holdsLength(bucket, length) ? index.group(bucket, cutHash[k] as number, length, path) : -1;
            for (const entry of bucket.groups[g] ?? []) {
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
