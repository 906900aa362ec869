/**
 * Route precedence (DATAPLANE.md "Routing"), as one comparator over routes that all match a
 * request. In order, the first key that differs decides:
 *   longest_prefix   longer path prefix first
 *   host_specific    a host (exact or wildcard) over host-agnostic
 *   exact_host       exact host over `*.suffix`
 *   longer_wildcard  longer wildcard suffix first
 *   method_specific  a method over any-method
 *   constrained      routes with header/query/cookie matchers over routes without (the
 *                    number of matchers does not count, as in config/src/route-reference.ts)
 *   upstream_name    lexically smaller upstream name (code-unit order)
 * Fully deterministic: two distinct upstreams always differ on the last key.
 */

export interface RankedRoute {
  readonly upstream: string;
  /** Lowercased exact host or `*.suffix`; null = any host. */
  readonly host: string | null;
  readonly pathPrefix: string;
  readonly method: string | null;
  readonly constrained: boolean;
}

export type TieBreakRule =
  | 'longest_prefix'
  | 'host_specific'
  | 'exact_host'
  | 'longer_wildcard'
  | 'method_specific'
  | 'constrained'
  | 'upstream_name';

/** The rule that orders `a` and `b` and whether `a` comes first; null when they are equal. */
export function decidingRule(a: RankedRoute, b: RankedRoute): { readonly rule: TieBreakRule; readonly aFirst: boolean } | null {
  if (a.pathPrefix.length !== b.pathPrefix.length) return { rule: 'longest_prefix', aFirst: a.pathPrefix.length > b.pathPrefix.length };
  if ((a.host === null) !== (b.host === null)) return { rule: 'host_specific', aFirst: a.host !== null };
  if (a.host !== null && b.host !== null) {
    const aWild = a.host.startsWith('*.');
    const bWild = b.host.startsWith('*.');
    if (aWild !== bWild) return { rule: 'exact_host', aFirst: !aWild };
    if (aWild && a.host.length !== b.host.length) return { rule: 'longer_wildcard', aFirst: a.host.length > b.host.length };
  }
  if ((a.method === null) !== (b.method === null)) return { rule: 'method_specific', aFirst: a.method !== null };
  if (a.constrained !== b.constrained) return { rule: 'constrained', aFirst: a.constrained };
  if (a.upstream !== b.upstream) return { rule: 'upstream_name', aFirst: a.upstream < b.upstream };
  return null;
}

/** Negative when `a` takes precedence over `b`; for Array.prototype.sort. */
export function compareRoutes(a: RankedRoute, b: RankedRoute): number {
  const d = decidingRule(a, b);
  return d === null ? 0 : d.aFirst ? -1 : 1;
}
