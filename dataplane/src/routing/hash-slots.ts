/**
 * The integer hashing under the route index (route-index.ts): FNV-1a over UTF-16 code units,
 * computed one character at a time so a lookup gets the hash of every path prefix and every
 * host suffix from a single pass over the original string (no slicing), and an open-addressing
 * table from such a hash to a small integer.
 *
 * A hash only narrows: every hit is verified against the stored string by the caller, so
 * collisions cost a probe, never a wrong route. Tables hold config keys only (requests just
 * probe), and each table gets a random seed, so request input cannot pick long probe chains.
 */

const FNV_PRIME = 0x01000193;
const GOLDEN = 0x9e3779b1 | 0;

/** One FNV-1a step: the hash of `s + char(c)` from the hash of `s`. */
export function hashStep(h: number, c: number): number {
  return Math.imul(h ^ c, FNV_PRIME);
}

/** Hash of `s`, characters first to last (the order path prefixes are walked in). */
export function hashForward(s: string, seed: number): number {
  let h = seed;
  for (let i = 0; i < s.length; i++) h = hashStep(h, s.charCodeAt(i));
  return h;
}

/** Hash of `s`, characters last to first (the order host suffixes are walked in). */
export function hashBackward(s: string, seed: number): number {
  let h = seed;
  for (let i = s.length - 1; i >= 0; i--) h = hashStep(h, s.charCodeAt(i));
  return h;
}

/** A fresh random 32-bit seed. */
export function randomSeed(): number {
  return (Math.random() * 0x1_0000_0000) | 0;
}

/*
 * Open addressing with linear probing over one Int32Array of [key, value + 1] pairs (0 = an
 * empty slot), at most half full, so a probe usually reads one cache line and no object sits
 * between the caller and its table. Keys may repeat (distinct strings, equal hashes): walk
 * them with findSlot / nextSlot. The table size is a power of two: mask = pairs - 1, and the
 * home slot takes the top bits of a multiplicative mix.
 */

/** A table with room for `entries` insertions. */
export function createSlots(entries: number): Int32Array {
  let pairs = 2;
  while (pairs < entries * 2 && pairs < 1 << 30) pairs *= 2;
  return new Int32Array(pairs * 2);
}

export function insertSlot(slots: Int32Array, key: number, value: number): void {
  const mask = (slots.length >> 1) - 1;
  let p = home(key, mask);
  while (slots[2 * p + 1] !== 0) p = (p + 1) & mask;
  slots[2 * p] = key;
  slots[2 * p + 1] = value + 1;
}

/** Position of the first slot holding `key`, or -1. */
export function findSlot(slots: Int32Array, key: number): number {
  const mask = (slots.length >> 1) - 1;
  return scan(slots, key, home(key, mask), mask);
}

/** Position of the next slot after `pos` holding `key`, or -1. */
export function nextSlot(slots: Int32Array, key: number, pos: number): number {
  const mask = (slots.length >> 1) - 1;
  return scan(slots, key, (pos + 1) & mask, mask);
}

/** The value stored at a position findSlot / nextSlot returned. */
export function slotValue(slots: Int32Array, pos: number): number {
  return (slots[2 * pos + 1] as number) - 1;
}

/** Top bits of key × golden ratio: clz32(mask) = 32 − log2(pairs). */
function home(key: number, mask: number): number {
  return Math.imul(key, GOLDEN) >>> Math.clz32(mask);
}

function scan(slots: Int32Array, key: number, from: number, mask: number): number {
  for (let p = from; ; p = (p + 1) & mask) {
    const v = slots[2 * p + 1];
    if (v === 0) return -1;
    if (slots[2 * p] === key) return p;
  }
}
