/**
 * `consistent-hash` and `sticky-cid`: the request key (request-key.ts; sticky-cid always keys
 * on the client connection) is hashed with ringHash (finalized FNV-1a-64) and looked up on
 * the ring of the current candidates (hash-ring.ts). Retries and hedges walk on to the next
 * point owned by a backend not yet tried.
 *
 * Rings are never built per request: the full ring is built on the first pick, and a ring per
 * distinct candidate set is derived from it when health changes membership, kept in a small
 * cache (RING_CACHE entries, most recent first) keyed by the set itself. `ringBuilds` counts
 * the rings made, for tests and telemetry.
 */
import type { Balancer, PickContext, WeightedBackend } from './balancer.ts';
import { ringHash } from './fnv1a64.ts';
import { buildRing, type HashRing, lookupRing, restrictRing } from './hash-ring.ts';
import { compileKeyExtractor, type KeyExtractor } from './request-key.ts';

const RING_CACHE = 8;

export interface HashBalancer extends Balancer {
  /** Rings built so far (the full ring plus one per distinct degraded membership). */
  readonly ringBuilds: number;
}

interface CachedRing {
  readonly signature: number;
  readonly members: readonly number[];
  readonly ring: HashRing;
}

export function createConsistentHash(
  backends: readonly WeightedBackend[],
  key: string | null,
  type: 'consistent-hash' | 'sticky-cid' = 'consistent-hash',
): HashBalancer {
  const n = backends.length;
  const extract: KeyExtractor = compileKeyExtractor(type === 'sticky-cid' ? 'sticky-cid' : key);
  let full: HashRing | null = null;
  let builds = 0;
  const cache: CachedRing[] = [];

  function fullRing(): HashRing {
    if (full === null) {
      full = buildRing(backends);
      builds++;
    }
    return full;
  }

  function ringFor(candidates: readonly number[]): HashRing {
    if (candidates.length === n) return fullRing();
    const signature = signatureOf(candidates);
    for (let k = 0; k < cache.length; k++) {
      const entry = cache[k] as CachedRing;
      if (entry.signature !== signature || !sameMembers(entry.members, candidates)) continue;
      if (k > 0) {
        cache.splice(k, 1);
        cache.unshift(entry);
      }
      return entry.ring;
    }
    const mask = new Uint8Array(n);
    for (const i of candidates) mask[i] = 1;
    const ring = restrictRing(fullRing(), mask);
    builds++;
    cache.unshift({ signature, members: candidates.slice(), ring });
    if (cache.length > RING_CACHE) cache.pop();
    return ring;
  }

  return {
    type,
    get ringBuilds() {
      return builds;
    },
    pick(candidates: readonly number[], ctx: PickContext): number | null {
      if (candidates.length === 0 || n === 0) return null;
      if (candidates.length === 1) {
        const only = candidates[0] as number;
        return ctx.exclude?.has(only) ? null : only;
      }
      return lookupRing(ringFor(candidates), ringHash(extract(ctx.request)), ctx.exclude);
    },
  };
}

function signatureOf(members: readonly number[]): number {
  let h = 0x811c9dc5;
  for (let k = 0; k < members.length; k++) h = Math.imul(h ^ (members[k] as number), 0x01000193);
  return h >>> 0;
}

function sameMembers(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}
