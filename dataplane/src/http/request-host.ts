/**
 * The request's host as routing sees it: `:authority`, else `Host`; trimmed, port stripped,
 * IPv6 brackets stripped, trailing dots stripped, lowercased. Same rule as route hosts in the
 * config (`normalizeRouteHost`), so both sides compare equal strings.
 *
 * `requestHostProblem` is the syntax gate in front of it (screening refuses a failing value
 * with 400 bad_host): `host [":" port]` where host is
 *   - a DNS-style reg-name: labels of [A-Za-z0-9_-], 1–63 characters, dot-separated, ≤ 253
 *     characters, one optional trailing dot — stricter than RFC 3986 reg-name on purpose
 *     (no sub-delims, so no `,` folding several hosts into one, no `;`, no percent-encoding);
 *   - a strict dotted-quad IPv4 (no leading zeros, each part ≤ 255). A name whose last label is
 *     numeric or hex-looking (`127.1`, `0x7f.1`, `010.0.0.1`) is refused, since WHATWG URL
 *     parsers read it as an IPv4 address while others read it as a name;
 *   - a bracketed IPv6 literal (no zone identifier, no IPvFuture);
 * and port, when the colon is present, is 1–65535 in at most 5 digits. Userinfo (`@`),
 * whitespace, control characters and the empty host are refused.
 */
import { isIPv6 } from 'node:net';

/** Normalises one authority / Host value; null when it is empty after normalisation. */
export function normalizeRequestHost(raw: string): string | null {
  let h = raw.trim();
  if (h.startsWith('[')) {
    const close = h.indexOf(']');
    h = close === -1 ? h.slice(1) : h.slice(1, close);
  } else {
    // At most one colon = host:port; more colons = a bare IPv6 literal (left intact).
    const colon = h.indexOf(':');
    if (colon !== -1 && colon === h.lastIndexOf(':')) h = h.slice(0, colon);
  }
  while (h.endsWith('.')) h = h.slice(0, -1);
  h = h.toLowerCase();
  return h === '' ? null : h;
}

const MAX_HOST_VALUE = 300;

/**
 * null when `raw` is an acceptable `:authority` / `Host` value, else a short reason (logs only).
 * A reg-name or IPv4 host with a port is checked in place (no substrings: nothing allocated).
 */
export function requestHostProblem(raw: string): string | null {
  if (raw.length === 0) return 'empty host';
  if (raw.length > MAX_HOST_VALUE) return 'host too long';
  let portFrom = -1;
  if (raw.charCodeAt(0) === 0x5b) {
    const close = raw.indexOf(']');
    if (close === -1) return 'unclosed bracket';
    if (close + 1 < raw.length) {
      if (raw.charCodeAt(close + 1) !== 0x3a) return 'garbage after ipv6 literal';
      portFrom = close + 2;
    }
    const literal = raw.slice(1, close);
    if (!isIPv6(literal) || literal.indexOf('%') !== -1) return 'invalid ipv6 literal';
  } else {
    let hostEnd = raw.length;
    const colon = raw.indexOf(':');
    if (colon !== -1) {
      if (raw.indexOf(':', colon + 1) !== -1) return 'several colons (unbracketed ipv6?)';
      portFrom = colon + 1;
      hostEnd = colon;
    }
    const problem = hostNameProblem(raw, hostEnd);
    if (problem !== null) return problem;
  }
  if (portFrom !== -1) {
    // 1–5 digits, 1–65535.
    const digits = raw.length - portFrom;
    if (digits < 1 || digits > 5) return 'invalid port';
    let n = 0;
    for (let i = portFrom; i < raw.length; i++) {
      const c = raw.charCodeAt(i);
      if (c < 0x30 || c > 0x39) return 'invalid port';
      n = n * 10 + (c - 0x30);
    }
    if (n < 1 || n > 65535) return 'port out of range';
  }
  return null;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isLabelChar(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c === 0x2d;
}

function isHexDigit(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** `s[from, to)` is all digits, or `0x`/`0X` and hex digits: what WHATWG URL reads as a number. */
function numericLooking(s: string, from: number, to: number): boolean {
  if (to - from >= 2 && s.charCodeAt(from) === 0x30 && (s.charCodeAt(from + 1) | 0x20) === 0x78) {
    for (let i = from + 2; i < to; i++) if (!isHexDigit(s.charCodeAt(i))) return false;
    return true;
  }
  if (to === from) return false;
  for (let i = from; i < to; i++) if (!isDigit(s.charCodeAt(i))) return false;
  return true;
}

/** `s[from, to)` is a decimal octet: 0, or 1–3 digits without a leading zero, ≤ 255. */
function decimalOctet(s: string, from: number, to: number): boolean {
  const length = to - from;
  if (length < 1 || length > 3) return false;
  if (length > 1 && s.charCodeAt(from) === 0x30) return false;
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (!isDigit(c)) return false;
    n = n * 10 + (c - 0x30);
  }
  return n <= 255;
}

/** `s[0, end)`: a reg-name or dotted-quad IPv4, without brackets or port. */
function hostNameProblem(s: string, end: number): string | null {
  if (end === 0) return 'empty host';
  const trailingDot = s.charCodeAt(end - 1) === 0x2e;
  const nameEnd = trailingDot ? end - 1 : end;
  if (nameEnd === 0 || nameEnd > 253) return 'host length';
  let labels = 0;
  let labelFrom = 0;
  for (let i = 0; i <= nameEnd; i++) {
    if (i < nameEnd && s.charCodeAt(i) !== 0x2e) {
      if (!isLabelChar(s.charCodeAt(i))) return 'invalid host label';
      continue;
    }
    const length = i - labelFrom;
    if (length < 1 || length > 63) return 'invalid host label';
    labels++;
    if (i < nameEnd) labelFrom = i + 1;
  }
  if (numericLooking(s, labelFrom, nameEnd)) {
    // Ends in a number: only a strict dotted quad, else parsers disagree on what it names.
    if (labels !== 4 || trailingDot) return 'ambiguous numeric host';
    let from = 0;
    for (let i = 0; i <= nameEnd; i++) {
      if (i < nameEnd && s.charCodeAt(i) !== 0x2e) continue;
      if (!decimalOctet(s, from, i)) return 'invalid ipv4 address';
      from = i + 1;
    }
  }
  return null;
}
