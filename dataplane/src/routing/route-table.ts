/**
 * The compiled route index, built once per generation. Lookup never scans all routes:
 *
 *   host bucket: exact host map → wildcard suffix map (longest suffix first, walking the
 *   request host's labels; `*.example.com` matches any depth below example.com, never the
 *   apex) → host-agnostic bucket. The first bucket holding a match wins.
 *   within a bucket: a map from prefix to entries; the request path's segment-boundary
 *   prefixes are tried longest first (`/a/b/c`, `/a/b`, `/a`, `/`), so `/api` matches
 *   `/api`, `/api/x`, never `/apix`.
 *   within one prefix: method-specific entries before any-method, then lexically smaller
 *   upstream name (fully deterministic).
 *
 * Cost per lookup: O(host labels + path segments) map probes, independent of route count.
 */
import type { Route } from '@spooky/config';

export interface RouteEntry {
  /** Upstream name (the route's owner). */
  readonly upstream: string;
  readonly host: string | null;
  readonly pathPrefix: string;
  readonly method: string | null;
}

/** entries for one prefix, sorted: method-specific first, then by upstream name. */
type Bucket = Map<string, RouteEntry[]>;

export interface RouteTable {
  readonly size: number;
  /** `host` normalised (or null), `path` = matchingPath(target), `method` uppercase. */
  lookup(host: string | null, path: string, method: string): RouteEntry | null;
}

export function compileRouteTable(routes: ReadonlyArray<{ readonly upstream: string; readonly route: Route }>): RouteTable {
  const exact = new Map<string, Bucket>();
  const wildcard = new Map<string, Bucket>();
  const any: Bucket = new Map();
  for (const { upstream, route } of routes) {
    const entry: RouteEntry = { upstream, host: route.host, pathPrefix: route.path_prefix, method: route.method };
    let bucket = any;
    if (route.host !== null) {
      const isWildcard = route.host.startsWith('*.');
      const map = isWildcard ? wildcard : exact;
      const key = isWildcard ? route.host.slice(2) : route.host;
      bucket = map.get(key) ?? new Map();
      map.set(key, bucket);
    }
    const list = bucket.get(entry.pathPrefix) ?? [];
    list.push(entry);
    bucket.set(entry.pathPrefix, list);
  }
  for (const b of [any, ...exact.values(), ...wildcard.values()]) for (const list of b.values()) list.sort(compareEntries);

  return {
    size: routes.length,
    lookup(host, path, method) {
      if (host !== null) {
        const e = exact.get(host);
        const hit = e && matchBucket(e, path, method);
        if (hit) return hit;
        if (wildcard.size > 0) {
          // Proper suffixes only, longest first: a.b.example.com → b.example.com, example.com, com.
          for (let dot = host.indexOf('.'); dot !== -1; dot = host.indexOf('.', dot + 1)) {
            const w = wildcard.get(host.slice(dot + 1));
            const whit = w && matchBucket(w, path, method);
            if (whit) return whit;
          }
        }
      }
      return matchBucket(any, path, method);
    },
  };
}

function compareEntries(a: RouteEntry, b: RouteEntry): number {
  if ((a.method === null) !== (b.method === null)) return a.method === null ? 1 : -1;
  return a.upstream < b.upstream ? -1 : a.upstream > b.upstream ? 1 : 0;
}

function matchBucket(bucket: Bucket, path: string, method: string): RouteEntry | null {
  let candidate = path;
  let cut = path.length;
  for (;;) {
    const list = bucket.get(candidate);
    if (list) {
      for (const entry of list) if (entry.method === null || entry.method === method) return entry;
    }
    if (cut <= 1) return null;
    cut = path.lastIndexOf('/', cut - 1);
    if (cut <= 0) {
      candidate = '/';
      cut = 1;
    } else {
      candidate = path.slice(0, cut);
    }
  }
}
