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

const LABEL = /^[A-Za-z0-9_-]{1,63}$/;
const DECIMAL_OCTET = /^(?:0|[1-9][0-9]{0,2})$/;
const NUMERIC_LOOKING = /^(?:[0-9]+|0[xX][0-9A-Fa-f]*)$/;
const PORT = /^[0-9]{1,5}$/;
const MAX_HOST_VALUE = 300;

/** null when `raw` is an acceptable `:authority` / `Host` value, else a short reason (logs only). */
export function requestHostProblem(raw: string): string | null {
  if (raw.length === 0) return 'empty host';
  if (raw.length > MAX_HOST_VALUE) return 'host too long';
  let port: string | null = null;
  if (raw.charCodeAt(0) === 0x5b) {
    const close = raw.indexOf(']');
    if (close === -1) return 'unclosed bracket';
    const rest = raw.slice(close + 1);
    if (rest !== '') {
      if (rest.charCodeAt(0) !== 0x3a) return 'garbage after ipv6 literal';
      port = rest.slice(1);
    }
    const literal = raw.slice(1, close);
    if (!isIPv6(literal) || literal.indexOf('%') !== -1) return 'invalid ipv6 literal';
  } else {
    let host = raw;
    const colon = raw.indexOf(':');
    if (colon !== -1) {
      if (raw.indexOf(':', colon + 1) !== -1) return 'several colons (unbracketed ipv6?)';
      port = raw.slice(colon + 1);
      host = raw.slice(0, colon);
    }
    const problem = hostNameProblem(host);
    if (problem !== null) return problem;
  }
  if (port !== null) {
    if (!PORT.test(port)) return 'invalid port';
    const n = Number(port);
    if (n < 1 || n > 65535) return 'port out of range';
  }
  return null;
}

/** A reg-name or dotted-quad IPv4, without brackets or port. */
function hostNameProblem(host: string): string | null {
  if (host === '') return 'empty host';
  const name = host.endsWith('.') ? host.slice(0, -1) : host;
  if (name.length === 0 || name.length > 253) return 'host length';
  const labels = name.split('.');
  for (const label of labels) if (!LABEL.test(label)) return 'invalid host label';
  if (NUMERIC_LOOKING.test(labels[labels.length - 1] as string)) {
    // Ends in a number: only a strict dotted quad, else parsers disagree on what it names.
    if (labels.length !== 4 || host !== name) return 'ambiguous numeric host';
    for (const label of labels) {
      if (!DECIMAL_OCTET.test(label) || Number(label) > 255) return 'invalid ipv4 address';
    }
  }
  return null;
}
