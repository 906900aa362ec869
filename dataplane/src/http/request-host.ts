/**
 * The request's host as routing sees it: `:authority`, else `Host`; trimmed, port stripped,
 * IPv6 brackets stripped, trailing dots stripped, lowercased. Same rule as route hosts in the
 * config (`normalizeRouteHost`), so both sides compare equal strings.
 */

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
