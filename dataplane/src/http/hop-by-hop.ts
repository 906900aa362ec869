/**
 * Hop-by-hop header rules (RFC 9110 §7.6.1), applied both ways by the proxy: `connection` and
 * every token it lists, `keep-alive`, `proxy-*`, `te`, `trailer`, `transfer-encoding`,
 * `upgrade`. Pseudo-headers never appear in a HeaderList (ingress strips them) but are
 * dropped here too so upstream header objects (h2) can pass through the same filter.
 */
import type { HeaderList } from './exchange.ts';

const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * The lowercase header names the `connection` header(s) list, beyond those `isHopByHop` drops
 * by name anyway (`keep-alive`, `upgrade`, `proxy-*`…, left out so the common
 * `connection: keep-alive` costs no Set); empty set when none. Only for `isHopByHop`.
 */
export function connectionTokens(headers: HeaderList): ReadonlySet<string> {
  let tokens: Set<string> | null = null;
  for (const [name, value] of headers) {
    if (name !== 'connection') continue;
    if (value.indexOf(',') === -1) {
      tokens = listToken(tokens, value);
      continue;
    }
    for (const raw of value.split(',')) tokens = listToken(tokens, raw);
  }
  return tokens ?? EMPTY;
}

function listToken(tokens: Set<string> | null, raw: string): Set<string> | null {
  const token = raw.trim().toLowerCase();
  if (token === '' || HOP_BY_HOP.has(token) || token.startsWith('proxy-')) return tokens;
  const set = tokens ?? new Set<string>();
  set.add(token);
  return set;
}

const EMPTY: ReadonlySet<string> = new Set();

/** True when `name` (lowercase) must not cross the proxy. */
export function isHopByHop(name: string, listed: ReadonlySet<string>): boolean {
  return (
    HOP_BY_HOP.has(name) || name.startsWith('proxy-') || name.charCodeAt(0) === 58 /* ':' */ || listed.has(name)
  );
}

/** Copy of `headers` without hop-by-hop headers, pseudo-headers, or any name in `drop`. */
export function endToEndHeaders(headers: HeaderList, drop?: ReadonlySet<string>): HeaderList {
  const listed = connectionTokens(headers);
  const out: HeaderList = [];
  for (const entry of headers) {
    const name = entry[0];
    if (isHopByHop(name, listed) || drop?.has(name)) continue;
    out.push(entry);
  }
  return out;
}

/** First value of `name` (lowercase), or null. */
export function headerValue(headers: HeaderList, name: string): string | null {
  for (const [n, v] of headers) if (n === name) return v;
  return null;
}

/** Every value of `name` (lowercase), in arrival order. */
export function headerValues(headers: HeaderList, name: string): string[] {
  const out: string[] = [];
  for (const [n, v] of headers) if (n === name) out.push(v);
  return out;
}
