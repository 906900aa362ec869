/**
 * keyHash: where a request key lands on the consistent-hash ring, as an integer in [0, 2^53)
 * like the ring's points (hash-ring.ts). Runs on every consistent-hash / sticky-cid pick, so
 * it reads UTF-16 code units two at a time (no UTF-8 encoding, one 32-bit word per step):
 * xor, multiply, rotate (a bijection of the state for each word), then murmur3's avalanche
 * finalizer twice for 53 output bits. One multiply per two characters instead of FNV-1a-64's
 * byte-wise carry arithmetic. The state is 32 bits: two keys collide with probability 2^-32,
 * which only puts them on the same backend (harmless; the ring has 16 384 points).
 *
 * **Placement:** before this, keys were placed with ringHash (finalized FNV-1a-64 over UTF-8,
 * the function that still places the ring's points). Keys now map to different backends than
 * they did then — a one-time reshuffle when a data plane with this version starts; the ring
 * itself (points, weights, membership behaviour) is unchanged. Equal strings always hash equal.
 */

import { fmix32 } from './fnv1a64.ts';

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}


export function keyHash(text: string): number {
  const len = text.length;
  let h = 0x2f9be6cc ^ len;
  let k = 0;
  for (; k + 1 < len; k += 2) {
    h = rotl(Math.imul(h ^ (text.charCodeAt(k) | (text.charCodeAt(k + 1) << 16)), 0xcc9e2d51), 15);
  }
  if (k < len) h = rotl(Math.imul(h ^ text.charCodeAt(k), 0xcc9e2d51), 15);
  const a = fmix32(h);
  const b = fmix32(Math.imul(a ^ h, 0x9e3779b1));
  return a * 2097152 + (b >>> 11);
}
