/**
 * Values of the forwarding headers (RFC 7239 `Forwarded`, de-facto `X-Forwarded-For`), pure.
 * Inputs come from request headers the ingress already accepted (no CR/LF) and from the
 * socket's peer address.
 */

/** The client address as XFF lists it: IPv4-mapped IPv6 (`::ffff:a.b.c.d`, dual-stack sockets) unmapped. */
export function clientAddress(peer: string): string {
  if (peer.length > 7 && peer.charCodeAt(0) === 58 && peer.startsWith('::ffff:') && peer.includes('.', 7)) return peer.slice(7);
  return peer;
}

const NODE = /^[0-9A-Za-z._:-]+$/;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** A Forwarded parameter value: a token as is, anything else a quoted-string. */
export function forwardedValue(value: string): string {
  if (TOKEN.test(value)) return value;
  return value.includes('"') || value.includes('\\') ? `"${value.replace(/[\\"]/g, '\\$&')}"` : `"${value}"`;
}

/** A Forwarded `for=` node: IPv6 as `"[v6]"`, IPv4 / `unknown` / `_obfuscated` as tokens. */
export function forwardedNode(address: string | null): string {
  if (address === null || address === '') return 'unknown';
  if (address.includes(':')) return `"[${address}]"`;
  return forwardedValue(address);
}

/**
 * Our hop's Forwarded element. `address` is the socket's peer address (an IP literal: IPv4 is
 * a token as it is, no check needed).
 */
export function forwardedElement(address: string | null, proto: string, host: string | null): string {
  const node = address === null || address === '' ? 'unknown' : address.includes(':') ? `"[${address}]"` : address;
  const base = `for=${node};proto=${proto === 'https' || proto === 'http' ? proto : forwardedValue(proto)}`;
  return host === null ? base : `${base};host=${forwardedValue(host)}`;
}

/** Forwarded elements for an X-Forwarded-For chain (`a, b` → `for=a, for=b`). */
export function forwardedFromXff(xff: string): string {
  let out = '';
  for (const raw of xff.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    out += `${out === '' ? '' : ', '}for=${forwardedNode(entry)}`;
  }
  return out;
}

/** The `for=` nodes of a Forwarded value as an X-Forwarded-For chain (brackets, quotes and ports removed; malformed nodes `unknown`). */
export function xffFromForwarded(forwarded: string): string {
  let out = '';
  for (const element of splitOutsideQuotes(forwarded, ',')) {
    for (const pair of splitOutsideQuotes(element, ';')) {
      const eq = pair.indexOf('=');
      if (eq < 0 || pair.slice(0, eq).trim().toLowerCase() !== 'for') continue;
      const node = nodeAddress(unquote(pair.slice(eq + 1).trim()));
      // RFC 7239 nodes are IPs, `unknown` or `_obfuscated`: anything else (a comma would add hops) is `unknown`.
      if (node !== '') out += `${out === '' ? '' : ', '}${NODE.test(node) ? node : 'unknown'}`;
    }
  }
  return out;
}

function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) return value.slice(1, -1).replace(/\\(.)/g, '$1');
  return value;
}

/** `[v6]:port` / `[v6]` → v6; `v4:port` → v4; anything else unchanged. */
function nodeAddress(node: string): string {
  if (node.startsWith('[')) {
    const close = node.indexOf(']');
    return close < 0 ? node : node.slice(1, close);
  }
  const colon = node.indexOf(':');
  return colon >= 0 && node.indexOf(':', colon + 1) < 0 ? node.slice(0, colon) : node;
}

function splitOutsideQuotes(value: string, separator: string): string[] {
  const parts: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\' && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (c === separator && !quoted) {
      parts.push(value.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(value.slice(start));
  return parts;
}
