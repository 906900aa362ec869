/**
 * The compiled route index behind RouteTable (route-table.ts): host buckets, and inside each
 * bucket the groups of routes sharing one path prefix, found through integer hashes computed
 * while walking the request path once (hash-slots.ts). Built once per generation; a lookup
 * allocates nothing, slices no string and never scans all routes.
 *
 *   Buckets: one per exact host, one per wildcard suffix (`*.example.com` → `example.com`), one
 *   host-agnostic. For a request host the relevant buckets are, in host precedence order: its
 *   exact bucket, the wildcard buckets of its proper suffixes longest first (never the host
 *   itself, so never the apex), the host-agnostic bucket. Exact hosts: one Map probe returns
 *   the precomputed list. Other hosts: one backward pass over the host (no further than the
 *   longest wildcard suffix) hashes its suffixes and probes the wildcard table only at dots
 *   where some wildcard suffix has exactly that length.
 *
 *   Prefix cuts: `/a/b/c` is matched as `/a/b/c`, `/a/b`, `/a`, `/` (the full path, the part
 *   before every `/` after the first character, and `/`); one forward pass records the hash of
 *   each cut whose length some relevant bucket holds, stopping past their longest prefix.
 *
 *   Groups: per bucket, a table from prefix hash to group; a hit is verified (length, then
 *   startsWith) so a hash collision costs a probe, never a wrong route. Each group is sorted by
 *   the remaining tie-breaks (route-rank.ts) and its best route is also kept in a flat array,
 *   so the common case reads one entry. A length filter on the bucket (a bit mask for lengths
 *   up to 29, a flag array beyond) skips probes for lengths the bucket does not hold.
 *
 * Lookups are synchronous, so the scratch arrays of one index are reused by every lookup.
 */
import { createSlots, findSlot, hashBackward, hashForward, hashStep, insertSlot, nextSlot, randomSeed, slotValue } from './hash-slots.ts';

/** What the index stores per route: its host (null, exact or `*.suffix`) and path prefix. */
export interface IndexedRoute {
  readonly host: string | null;
  readonly pathPrefix: string;
}

export interface Bucket<R extends IndexedRoute> {
  /** Exact host, wildcard suffix, or '' (host-agnostic). */
  readonly key: string;
  /** Prefix hash → group number. */
  readonly slots: Int32Array;
  /** best[g] = the first route of groups[g] (all of a group share one prefix). */
  readonly best: R[];
  /** Route groups sorted best first. */
  readonly groups: R[][];
  /** Bit n set when some prefix of this bucket is n characters long, n ≤ MASK_LENGTHS. */
  readonly shortLengths: number;
  /** longLengths[n] = 1 when some prefix is n > MASK_LENGTHS characters long. */
  readonly longLengths: Uint8Array;
  readonly maxPrefixLength: number;
}

/** The buckets relevant to one host, in host precedence order: buckets[0 .. count - 1]. */
export interface BucketList<R extends IndexedRoute> {
  readonly buckets: Bucket<R>[];
  count: number;
  /** The longest prefix in any of them (the forward pass stops there). */
  maxPrefixLength: number;
  /** Union of the buckets' shortLengths. */
  shortLengths: number;
  /** Whether any of them holds a prefix longer than MASK_LENGTHS. */
  hasLong: boolean;
}

/** Prefix lengths 1..29 live in a bit mask that stays a small integer (< 2^30). */
const MASK_LENGTHS = 29;

/** Whether `bucket` holds a prefix `length` characters long. */
export function holdsLength(bucket: Bucket<IndexedRoute>, length: number): boolean {
  return length <= MASK_LENGTHS ? ((bucket.shortLengths >>> length) & 1) === 1 : length < bucket.longLengths.length && bucket.longLengths[length] === 1;
}

/** Hash seeds of one index (random per index; fixed only by tests that force collisions). */
export interface IndexSeeds {
  readonly path: number;
  readonly host: number;
}

export class RouteIndex<R extends IndexedRoute> {
  readonly #pathSeed: number;
  readonly #hostSeed: number;
  /** Exact host → its bucket list (V8's string hash: one native probe for the common case). */
  readonly #exact = new Map<string, BucketList<R>>();
  readonly #wildcard: Bucket<R>[] = [];
  readonly #wildcardSlots: Int32Array;
  /** wildcardLengths[n] = 1 when some wildcard suffix is n characters long. */
  readonly #wildcardLengths: Uint8Array;
  readonly #anyOnly: BucketList<R>;
  readonly #any: Bucket<R> | null;
  // Scratch, reused by every lookup.
  readonly #hostList: BucketList<R>;
  readonly #suffixHash: Int32Array;
  readonly #suffixDot: Int32Array;
  /** cutLength[k] / cutHash[k]: the k-th candidate prefix cut, shortest first (filled by cuts()). */
  readonly cutLength: Int32Array;
  readonly cutHash: Int32Array;

  /** `sortGroup` orders one group best first. */
  constructor(routes: readonly R[], sortGroup: (group: R[]) => void, seeds: IndexSeeds = { path: randomSeed(), host: randomSeed() }) {
    this.#pathSeed = seeds.path;
    this.#hostSeed = seeds.host;
    const exact = new Map<string, R[]>();
    const wildcard = new Map<string, R[]>();
    const any: R[] = [];
    let maxPrefix = 1;
    let maxSuffix = 0;
    for (const route of routes) {
      maxPrefix = Math.max(maxPrefix, route.pathPrefix.length);
      if (route.host === null) any.push(route);
      else if (route.host.startsWith('*.')) {
        maxSuffix = Math.max(maxSuffix, route.host.length - 2);
        addTo(wildcard, route.host.slice(2), route);
      } else addTo(exact, route.host, route);
    }
    this.cutLength = new Int32Array(maxPrefix + 2);
    this.cutHash = new Int32Array(maxPrefix + 2);
    this.#suffixHash = new Int32Array(maxSuffix + 1);
    this.#suffixDot = new Int32Array(maxSuffix + 1);
    this.#wildcardLengths = new Uint8Array(maxSuffix + 1);

    this.#wildcardSlots = createSlots(wildcard.size);
    for (const [suffix, list] of wildcard) {
      insertSlot(this.#wildcardSlots, hashBackward(suffix, this.#hostSeed), this.#wildcard.length);
      this.#wildcard.push(this.#bucket(suffix, list, sortGroup));
      this.#wildcardLengths[suffix.length] = 1;
    }
    this.#any = any.length === 0 ? null : this.#bucket('', any, sortGroup);
    this.#anyOnly = listOf(this.#any === null ? [] : [this.#any]);
    // Fixed capacity (one wildcard per distinct suffix length, then host-agnostic), filled with
    // real buckets so the array keeps one element kind; `count` says how many are live.
    const filler = this.#bucket('', [], sortGroup);
    this.#hostList = listOf(new Array<Bucket<R>>(maxSuffix + 2).fill(filler));

    for (const [host, list] of exact) {
      const bucket = this.#bucket(host, list, sortGroup);
      // Not yet in the exact map, so this is the host's wildcard + host-agnostic list.
      const others = this.bucketsFor(host);
      this.#exact.set(host, listOf([bucket, ...others.buckets.slice(0, others.count)]));
    }
  }

  /** The buckets relevant to `host` (normalised, or null). Valid until the next call. */
  bucketsFor(host: string | null): BucketList<R> {
    if (host === null) return this.#anyOnly;
    const exact = this.#exact.get(host);
    if (exact !== undefined) return exact;
    if (this.#wildcard.length === 0) return this.#anyOnly;
    // One backward pass, stopping past the longest wildcard suffix: at each dot where some
    // wildcard suffix has exactly the length of what follows (never at index 0: a leading dot
    // has no label before it), the hash of that suffix.
    const wl = this.#wildcardLengths;
    let n = 0;
    let h = this.#hostSeed;
    // A dot at i leaves a suffix of length - i - 1 characters: at most wl.length - 1.
    const stop = host.length - wl.length;
    for (let i = host.length - 1; i > 0 && i >= stop; i--) {
      const c = host.charCodeAt(i);
      if (c === 0x2e && wl[host.length - i - 1] === 1) {
        this.#suffixHash[n] = h;
        this.#suffixDot[n] = i;
        n++;
      }
      h = hashStep(h, c);
    }
    return n === 0 ? this.#anyOnly : this.#wildcardBuckets(host, n);
  }

  /**
   * Fills cutLength / cutHash with the prefix cuts of `path` (which starts with `/`) that some
   * bucket of `list` may hold (by length), shortest first; returns how many. One forward pass,
   * stopping past the longest prefix of the list.
   */
  cuts(path: string, list: BucketList<R>): number {
    const mask = list.shortLengths;
    const long = list.hasLong;
    const max = list.maxPrefixLength;
    const lengths = this.cutLength;
    const hashes = this.cutHash;
    let h = hashStep(this.#pathSeed, 0x2f);
    let n = 0;
    if (fits(1, mask, long)) {
      lengths[0] = 1;
      hashes[0] = h;
      n = 1;
    }
    // A cut at the `/` at index i is i characters long (i > 1: index 1 is the cut `/`).
    const end = path.length <= max ? path.length : max + 1;
    for (let i = 1; i < end; i++) {
      const c = path.charCodeAt(i);
      if (c === 0x2f && i > 1 && fits(i, mask, long)) {
        lengths[n] = i;
        hashes[n] = h;
        n++;
      }
      h = hashStep(h, c);
    }
    if (path.length <= max && path.length > 1 && fits(path.length, mask, long)) {
      lengths[n] = path.length;
      hashes[n] = h;
      n++;
    }
    return n;
  }

  /** The group number in `bucket` whose prefix is `path`'s first `length` characters (hash `h`), or -1. */
  group(bucket: Bucket<R>, h: number, length: number, path: string): number {
    const slots = bucket.slots;
    for (let p = findSlot(slots, h); p !== -1; p = nextSlot(slots, h, p)) {
      const g = slotValue(slots, p);
      const prefix = (bucket.best[g] as R).pathPrefix;
      if (prefix.length === length && startsWith(path, prefix)) return g;
    }
    return -1;
  }

  #bucket(key: string, routes: R[], sortGroup: (group: R[]) => void): Bucket<R> {
    const byPrefix = new Map<string, R[]>();
    let max = 0;
    let shortLengths = 0;
    for (const route of routes) {
      addTo(byPrefix, route.pathPrefix, route);
      max = Math.max(max, route.pathPrefix.length);
    }
    const longLengths = new Uint8Array(max > MASK_LENGTHS ? max + 1 : 0);
    const slots = createSlots(byPrefix.size);
    const best: R[] = [];
    const groups: R[][] = [];
    for (const [prefix, group] of byPrefix) {
      sortGroup(group);
      insertSlot(slots, hashForward(prefix, this.#pathSeed), groups.length);
      best.push(group[0] as R);
      groups.push(group);
      if (prefix.length <= MASK_LENGTHS) shortLengths |= 1 << prefix.length;
      else longLengths[prefix.length] = 1;
    }
    return { key, slots, best, groups, shortLengths, longLengths, maxPrefixLength: max };
  }

  /**
   * The wildcard buckets among the `n` suffixes bucketsFor recorded (longest first), then the
   * host-agnostic bucket.
   */
  #wildcardBuckets(host: string, n: number): BucketList<R> {
    const out = this.#hostList;
    out.count = 0;
    out.maxPrefixLength = 0;
    out.shortLengths = 0;
    out.hasLong = false;
    const slots = this.#wildcardSlots;
    // Recorded shortest suffix first; precedence wants the longest first.
    for (let k = n - 1; k >= 0; k--) {
      const sh = this.#suffixHash[k] as number;
      const start = (this.#suffixDot[k] as number) + 1;
      for (let p = findSlot(slots, sh); p !== -1; p = nextSlot(slots, sh, p)) {
        const bucket = this.#wildcard[slotValue(slots, p)] as Bucket<R>;
        if (bucket.key.length === host.length - start && host.startsWith(bucket.key, start)) {
          addBucket(out, bucket);
          break;
        }
      }
    }
    if (out.count === 0) return this.#anyOnly;
    if (this.#any !== null) {
      addBucket(out, this.#any);
    }
    return out;
  }
}

/**
 * path.startsWith(prefix), by hand for short prefixes: a builtin call costs about as much as
 * comparing a dozen characters, and most prefixes are shorter than that.
 */
function startsWith(path: string, prefix: string): boolean {
  if (prefix.length > 16) return path.startsWith(prefix);
  if (prefix.length > path.length) return false;
  for (let i = prefix.length - 1; i >= 0; i--) if (path.charCodeAt(i) !== prefix.charCodeAt(i)) return false;
  return true;
}

/** Whether a cut `length` characters long may be held by a list with these length filters. */
function fits(length: number, shortLengths: number, hasLong: boolean): boolean {
  return length <= MASK_LENGTHS ? ((shortLengths >>> length) & 1) === 1 : hasLong;
}

function listOf<R extends IndexedRoute>(buckets: Bucket<R>[]): BucketList<R> {
  const list: BucketList<R> = { buckets, count: 0, maxPrefixLength: 0, shortLengths: 0, hasLong: false };
  for (const bucket of buckets) addBucket(list, bucket);
  return list;
}

function addBucket<R extends IndexedRoute>(list: BucketList<R>, bucket: Bucket<R>): void {
  list.buckets[list.count++] = bucket;
  list.maxPrefixLength = Math.max(list.maxPrefixLength, bucket.maxPrefixLength);
  list.shortLengths |= bucket.shortLengths;
  list.hasLong ||= bucket.longLengths.length > 0;
}

function addTo<R>(map: Map<string, R[]>, key: string, value: R): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}
