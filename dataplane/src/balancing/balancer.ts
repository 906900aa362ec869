/**
 * The one load-balancing contract. A Balancer is built per upstream per generation (by
 * compile/, through createBalancer) over that upstream's backend list; backends are named by
 * their index in that list.
 *
 *   pick(candidates, ctx) → index | null
 *
 * - `candidates`: the backends that may take traffic now — healthy and not circuit-open —
 *   as distinct indexes in ascending order, never mutated. The caller (attempt loop, with
 *   health and the breakers) gets it from the upstream's CandidateFilter (candidates.ts; or
 *   `eligibleBackends()`), which returns the shared `allBackends(n)` list when every backend
 *   passes — policies recognise it (length = n) and take their fast path — and the same
 *   degraded array while membership holds, so policies may cache per membership by identity;
 *   consistent-hash caches its ring per distinct candidate set, so the ring is rebuilt only
 *   when healthy membership changes, never per request.
 * - `ctx.exclude`: backends this request already tried (retries and hedges must go to a
 *   different backend). Excluded backends stay members for hashing: a retry walks on to the
 *   next backend instead of reshuffling the ring.
 * - `ctx.request`: what key-based policies hash (consistent-hash, sticky-cid); others ignore it.
 *
 * Result: a member of candidates not in exclude, or null when there is none (the caller
 * answers 503 `no_healthy_backends`). Policies never throw and never allocate on the fast
 * path; their durable state (round-robin scores, backend stats) lives in LongLivedState so it
 * survives generation swaps. What a balancer keeps itself (hash rings, load trees, the last
 * key hash) is derived from that and its backend list, and rebuilt freely.
 */
import type { LbType } from '@spooky/config';
import type { RequestHead } from '../http/exchange.ts';

export interface WeightedBackend {
  /** Canonical `http(s)://host:port`; consistent-hash places its ring points by it. */
  readonly address: string;
  readonly weight: number;
}

/**
 * The request facts a key can be drawn from. An Exchange satisfies it. `connectionId` is the
 * client connection's identity (QUIC: see ingress/h3/library-internals.ts); when absent,
 * sticky-cid falls back to the client address and port (one TCP connection).
 */
export interface PickRequest {
  readonly head: RequestHead;
  readonly remoteAddress: string | null;
  readonly remotePort: number | null;
  readonly connectionId?: string | null;
}

export interface PickContext {
  /** Indexes already tried by this request; null or empty = none. */
  readonly exclude: ReadonlySet<number> | null;
  /** The request, for key-based policies; null = no key (they hash the empty fallback). */
  readonly request: PickRequest | null;
}

export interface Balancer {
  readonly type: LbType;
  pick(candidates: readonly number[], ctx: PickContext): number | null;
}

/** A source of uniform numbers in [0, 1); injectable for tests. */
export type RandomSource = () => number;

export function greatestCommonDivisor(values: readonly number[]): number {
  let g = 0;
  for (const v of values) {
    let a = g;
    let b = v;
    while (b !== 0) [a, b] = [b, a % b];
    g = a;
  }
  return g === 0 ? 1 : g;
}
