/**
 * The consistent-hash ring: virtual points placed at ringHash(`<address>-<i>`) (the Rust
 * Spooky's FNV-1a-64 scheme, finalized: see fnv1a64.ts), sorted; a key goes to the first
 * point ≥ its hash, wrapping around.
 *
 * Bounded, and fixed in size: the ring holds RING_POINTS points split across backends in
 * proportion to weight (at least one each). **ours:** the Rust Spooky gives 64 × weight
 * points, unbounded (6 400 per backend at the default weight 100) and, at small weights,
 * too few for an even split (64 points ≈ ±12 % of the backend's share); 16 384 keeps the
 * split within about ±2 % at any weights and bounds the memory (196 KiB) and build time.
 * The split is computed over the upstream's whole backend list, so a backend's points never
 * depend on who else is healthy: a membership ring is the full ring with the absent
 * backends' points removed, and only keys of a departing backend move. (A config change of
 * weights or backends rescales everyone's counts: each keeps a prefix of its points.)
 */
import type { WeightedBackend } from './balancer.ts';
import { ringHash } from './fnv1a64.ts';

export const RING_POINTS = 16_384;

export interface HashRing {
  /** Point positions, ascending (53-bit ring hashes). */
  readonly points: Float64Array;
  /** Backend index owning each point. */
  readonly owners: Int32Array;
  /**
   * Search shortcut: bucket b (the top BUCKET_BITS bits of a position) starts at point
   * index[b]; index[BUCKETS] = points.length. A lookup binary-searches one bucket (≈ 4 points
   * for a full ring) instead of the whole ring.
   */
  readonly index: Uint32Array;
}

const BUCKET_BITS = 12;
const BUCKETS = 1 << BUCKET_BITS;
/** 2^(53 − BUCKET_BITS): positions per bucket. */
const BUCKET_SPAN = 2 ** (53 - BUCKET_BITS);

function indexOf(points: Float64Array): Uint32Array {
  const index = new Uint32Array(BUCKETS + 1);
  let j = 0;
  for (let b = 0; b <= BUCKETS; b++) {
    const start = b * BUCKET_SPAN;
    while (j < points.length && (points[j] as number) < start) j++;
    index[b] = j;
  }
  index[BUCKETS] = points.length;
  return index;
}

/** Points per backend: RING_POINTS split by weight, at least 1. */
export function pointCounts(backends: readonly WeightedBackend[]): number[] {
  let weights = 0;
  for (const b of backends) weights += b.weight;
  return backends.map((b) => Math.max(1, Math.floor((RING_POINTS * b.weight) / weights)));
}

/** The ring over every backend (built once per generation, lazily). */
export function buildRing(backends: readonly WeightedBackend[]): HashRing {
  const counts = pointCounts(backends);
  let total = 0;
  for (const c of counts) total += c;
  const points = new Float64Array(total);
  // Owner by position; on the (astronomically rare) equal position the lower index owns
  // both points, so the ring stays deterministic.
  const ownerOf = new Map<number, number>();
  let k = 0;
  backends.forEach((b, index) => {
    const count = counts[index] as number;
    for (let i = 0; i < count; i++) {
      const p = ringHash(`${b.address}-${i}`);
      points[k++] = p;
      if (!ownerOf.has(p)) ownerOf.set(p, index);
    }
  });
  points.sort();
  const owners = new Int32Array(total);
  for (let j = 0; j < total; j++) owners[j] = ownerOf.get(points[j] as number) as number;
  return { points, owners, index: indexOf(points) };
}

/** The full ring restricted to `members` (a 0/1 mask by backend index); no rehashing. */
export function restrictRing(full: HashRing, members: Uint8Array): HashRing {
  let size = 0;
  for (let k = 0; k < full.owners.length; k++) if (members[full.owners[k] as number] === 1) size++;
  const points = new Float64Array(size);
  const owners = new Int32Array(size);
  let j = 0;
  for (let k = 0; k < full.owners.length; k++) {
    const owner = full.owners[k] as number;
    if (members[owner] !== 1) continue;
    points[j] = full.points[k] as number;
    owners[j] = owner;
    j++;
  }
  return { points, owners, index: indexOf(points) };
}

/**
 * The owner of the first point ≥ `hash` (wrapping) that is not in `exclude`; null when the
 * ring is empty or every owner is excluded.
 */
export function lookupRing(ring: HashRing, hash: number, exclude: ReadonlySet<number> | null): number | null {
  const { points, owners, index } = ring;
  const n = points.length;
  if (n === 0) return null;
  const bucket = Math.floor(hash / BUCKET_SPAN);
  let lo = index[bucket] as number;
  let hi = index[bucket + 1] as number;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((points[mid] as number) < hash) lo = mid + 1;
    else hi = mid;
  }
  const start = lo === n ? 0 : lo;
  if (exclude === null || exclude.size === 0) return owners[start] as number;
  for (let step = 0; step < n; step++) {
    const owner = owners[(start + step) % n] as number;
    if (!exclude.has(owner)) return owner;
  }
  return null;
}
