/**
 * IP addresses and CIDR blocks, parsed by hand (no URL/net round trip): the config checks
 * `forwarded_headers.trusted_proxies` with `parseCidr`, and the data plane compiles the same
 * result into its trusted-proxy matcher and parses each peer address with `parseIp`.
 *
 * An address is 4 unsigned 32-bit words, most significant first. IPv4 `a.b.c.d` is the
 * IPv4-mapped IPv6 address `::ffff:a.b.c.d` (words 0, 0, 0xffff, a.b.c.d), so a socket that
 * reports IPv4 peers in mapped form (dual-stack) matches IPv4 blocks, and an IPv4 block
 * `a.b.c.d/n` is the IPv6 block `::ffff:a.b.c.d/(96 + n)`.
 */

export type IpWords = readonly [number, number, number, number];

export interface Cidr {
  /** The network address (host bits cleared). */
  readonly words: IpWords;
  /** Prefix length over the 128-bit form (IPv4 /n is 96 + n). */
  readonly bits: number;
  /** True when written as IPv4. */
  readonly v4: boolean;
}

/** Parses dotted-quad IPv4 into one word; null when not exactly four decimal octets 0–255. */
function parseV4(text: string, start: number, end: number): number | null {
  let word = 0;
  let octets = 0;
  let value = -1;
  let digits = 0;
  for (let i = start; i <= end; i++) {
    const c = i === end ? 46 : text.charCodeAt(i);
    if (c === 46 /* . */) {
      if (value < 0 || octets === 4) return null;
      word = word * 256 + value;
      octets++;
      value = -1;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits === 3 || (digits > 0 && value === 0)) return null; // no leading zeros, ≤ 3 digits
      value = (value < 0 ? 0 : value * 10) + (c - 48);
      if (value > 255) return null;
      digits++;
    } else return null;
  }
  return octets === 4 ? word >>> 0 : null;
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Parses IPv6 (with `::`, an embedded IPv4 tail, a `%zone` ignored) into 8 groups; null when invalid. */
function parseV6(text: string, start: number, end: number): number[] | null {
  const zone = text.indexOf('%', start);
  const stop = zone >= 0 && zone < end ? zone : end;
  const head: number[] = [];
  const tail: number[] = [];
  let groups = head;
  let compressed = false;
  let i = start;
  if (stop - start >= 2 && text.charCodeAt(i) === 58 && text.charCodeAt(i + 1) === 58) {
    compressed = true;
    groups = tail;
    i += 2;
  }
  while (i < stop) {
    let value = 0;
    let digits = 0;
    const groupStart = i;
    while (i < stop) {
      const d = hexDigit(text.charCodeAt(i));
      if (d < 0) break;
      if (++digits > 4) return null;
      value = value * 16 + d;
      i++;
    }
    if (i < stop && text.charCodeAt(i) === 46 /* . */) {
      const v4 = parseV4(text, groupStart, stop);
      if (v4 === null) return null;
      groups.push(v4 >>> 16, v4 & 0xffff);
      i = stop;
      break;
    }
    if (digits === 0) return null;
    groups.push(value);
    if (i === stop) break;
    if (text.charCodeAt(i) !== 58 /* : */) return null;
    i++;
    if (i < stop && text.charCodeAt(i) === 58) {
      if (compressed) return null;
      compressed = true;
      groups = tail;
      i++;
    } else if (i === stop) return null; // trailing single colon
  }
  const total = head.length + tail.length;
  if (compressed ? total > 7 : total !== 8) return null;
  if (!compressed) return head;
  const out = head;
  for (let k = total; k < 8; k++) out.push(0); // the zeros `::` stands for, between head and tail
  for (const g of tail) out.push(g);
  return out;
}

/** An address as 4 words; null when `text` is neither IPv4 nor IPv6 (brackets allowed around IPv6). */
export function parseIp(text: string): IpWords | null {
  let start = 0;
  let end = text.length;
  if (end > 1 && text.charCodeAt(0) === 91 /* [ */ && text.charCodeAt(end - 1) === 93) {
    start = 1;
    end -= 1;
  }
  if (text.indexOf(':', start) < 0) {
    const v4 = parseV4(text, start, end);
    return v4 === null ? null : [0, 0, 0xffff, v4];
  }
  const g = parseV6(text, start, end);
  if (g === null) return null;
  return [
    ((g[0]! << 16) | g[1]!) >>> 0,
    ((g[2]! << 16) | g[3]!) >>> 0,
    ((g[4]! << 16) | g[5]!) >>> 0,
    ((g[6]! << 16) | g[7]!) >>> 0,
  ];
}

/** Mask of the top `bits` (0–32) bits of one word. */
export function wordMask(bits: number): number {
  if (bits <= 0) return 0;
  if (bits >= 32) return 0xffffffff;
  return (0xffffffff << (32 - bits)) >>> 0;
}

/**
 * Parses `address/prefix` (or a bare address = a single host: /32 or /128). Null when the
 * address or the prefix is invalid. Host bits set below the prefix (`10.0.0.1/8`) are
 * rejected too: such an entry usually means a typo, never what was meant.
 */
export function parseCidr(text: string): Cidr | null {
  const slash = text.indexOf('/');
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const v4 = !addressText.includes(':');
  const words = parseIp(addressText);
  if (words === null || (addressText.startsWith('[') && v4)) return null;
  const max = v4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return null;
    prefix = Number(p);
    if (prefix > max) return null;
  }
  const bits = v4 ? 96 + prefix : prefix;
  for (let w = 0; w < 4; w++) {
    const mask = wordMask(bits - 32 * w);
    if (((words[w]! & ~mask) >>> 0) !== 0) return null;
  }
  return { words, bits, v4 };
}
