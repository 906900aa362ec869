/**
 * FNV-1a 64-bit over the UTF-8 bytes of a string, in two 32-bit halves (no BigInt: this runs
 * on every consistent-hash pick). Offset basis 0xcbf29ce484222325, prime 0x100000001b3 =
 * 2^40 + 0x1b3, so h·prime = h·0x1b3 + (h << 40): the low half times 0x1b3 is exact in a
 * double (< 2^41), its carry and `lo << 8` go to the high half, mod 2^32.
 *
 * `fnv1a64Hex` gives all 64 bits. `ringHash` is what the consistent-hash ring uses: FNV-1a-64
 * passed through an avalanche finalizer (murmur3's fmix32 on both halves, cross-mixed), as a
 * 53-bit integer (exact in a double, compared with `<`). **ours:** the Rust Spooky places
 * points at raw FNV-1a-64, whose high bits barely depend on the last bytes: `"<addr>-1"`,
 * `"<addr>-2"`… and keys like `user-1`, `user-2` cluster, skewing a 3:1 split to 81:19 in
 * our tests; finalized, it is 75:25.
 */

/** Halves of the last hash (module scratch: the functions are synchronous). */
let hashHi = 0;
let hashLo = 0;
/** UTF-8 bytes of one non-ASCII character (module scratch). */
const utf8 = new Uint8Array(4);

function hashInto(text: string): void {
  let hi = 0xcbf29ce4;
  let lo = 0x84222325;
  const len = text.length;
  for (let k = 0; k < len; k++) {
    let c = text.charCodeAt(k);
    if (c < 0x80) {
      lo = (lo ^ c) >>> 0;
      const p = lo * 0x1b3;
      hi = (Math.imul(hi, 0x1b3) + ((p / 4294967296) | 0) + (lo << 8)) >>> 0;
      lo = p >>> 0;
      continue;
    }
    let bytes: number;
    if (c < 0x800) {
      bytes = 2;
      utf8[0] = 0xc0 | (c >> 6);
      utf8[1] = 0x80 | (c & 0x3f);
    } else if (c >= 0xd800 && c < 0xdc00 && k + 1 < len && (text.charCodeAt(k + 1) & 0xfc00) === 0xdc00) {
      c = 0x10000 + ((c - 0xd800) << 10) + (text.charCodeAt(++k) - 0xdc00);
      bytes = 4;
      utf8[0] = 0xf0 | (c >> 18);
      utf8[1] = 0x80 | ((c >> 12) & 0x3f);
      utf8[2] = 0x80 | ((c >> 6) & 0x3f);
      utf8[3] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c < 0xe000) c = 0xfffd; // lone surrogate: encoded as U+FFFD, like TextEncoder
      bytes = 3;
      utf8[0] = 0xe0 | (c >> 12);
      utf8[1] = 0x80 | ((c >> 6) & 0x3f);
      utf8[2] = 0x80 | (c & 0x3f);
    }
    for (let j = 0; j < bytes; j++) {
      lo = (lo ^ (utf8[j] as number)) >>> 0;
      const p = lo * 0x1b3;
      hi = (Math.imul(hi, 0x1b3) + ((p / 4294967296) | 0) + (lo << 8)) >>> 0;
      lo = p >>> 0;
    }
  }
  hashHi = hi;
  hashLo = lo;
}

/** murmur3's 32-bit avalanche finalizer; shared by ringHash and keyHash. */
export function fmix32(x: number): number {
  let h = x ^ (x >>> 16);
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Ring position of `text`: finalized FNV-1a-64(UTF-8(text)), an integer in [0, 2^53). */
export function ringHash(text: string): number {
  hashInto(text);
  const a = fmix32(hashHi ^ Math.imul(hashLo, 0x9e3779b1));
  const b = fmix32(hashLo ^ a);
  return a * 2097152 + (b >>> 11);
}

/** All 64 bits of FNV-1a-64(UTF-8(text)), 16 lowercase hex digits. */
export function fnv1a64Hex(text: string): string {
  hashInto(text);
  return hashHi.toString(16).padStart(8, '0') + hashLo.toString(16).padStart(8, '0');
}
