/**
 * `consistent-hash` and `sticky-cid`: the request key (request-key.ts; sticky-cid always keys
 * on the client connection) is hashed with keyHash (key-hash.ts: fast, 53-bit; it replaced
 * ringHash for keys, which moved keys once) and looked up on the ring of the current
 * candidates (hash-ring.ts). Retries and hedges walk on to the next
 * point owned by a backend not yet tried.
 *
 * Rings are never built per request: the full ring is built on the first pick, and a ring per
 * distinct candidate set is derived from it when health changes membership, kept in a small
 * cache (RING_CACHE entries, most recent first) keyed by the set itself; the list last seen
 * is remembered by identity too (CandidateFilter hands out the same array while membership
 * holds, and lists are never mutated), which skips even the set comparison. `ringBuilds` counts
 * the rings made, for tests and telemetry.
 */
import type { Balancer, PickContext, WeightedBackend } from './balancer.ts';
import { buildRing, type HashRing, lookupRing, restrictRing } from './hash-ring.ts';
import { keyHash } from './key-hash.ts';
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
  let lastList: readonly number[] | null = null;
  let lastRing: HashRing | null = null;
  let lastKey = '';
  /** keyHash(lastKey), in a typed array: a double kept in a closure variable would be boxed on every store. */
  const lastHash = Float64Array.of(keyHash(''));

  function fullRing(): HashRing {
    if (full === null) {
      full = buildRing(backends);
      builds++;
    }
    return full;
  }

  function ringFor(candidates: readonly number[]): HashRing {
    if (candidates.length === n) return fullRing();
    if (candidates === lastList && lastRing !== null) return lastRing;
    lastList = candidates;
    lastRing = degradedRing(candidates);
    return lastRing;
  }

  function degradedRing(candidates: readonly number[]): HashRing {
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
      const key = extract(ctx.request);
      if (key !== lastKey) {
        lastKey = key; // one-entry cache: a connection's or user's requests often come in runs
        lastHash[0] = keyHash(key);
      }
      return lookupRing(ringFor(candidates), lastHash[0] as number, ctx.exclude);
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
