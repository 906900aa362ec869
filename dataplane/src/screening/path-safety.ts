/**
 * Pure path sanity for request targets. Refuses anything two components could read
 * differently: no leading `/`, `//`, backslashes, control characters, `.`/`..` segments
 * (also when percent-encoded), encoded `/` or `\`, malformed or double percent-encoding,
 * invalid UTF-8 after decoding. Only the path is checked; the query is the origin's business.
 */

const decoder = new TextDecoder('utf-8', { fatal: true });

function hex(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** null when `target`'s path is acceptable, else a short reason (for debug logs only). */
export function pathProblem(target: string): string | null {
  if (target.charCodeAt(0) !== 0x2f) return 'must start with /';
  const q = target.indexOf('?');
  const path = q === -1 ? target : target.slice(0, q);
  const bytes: number[] = [];
  let segmentStart = 0;
  let segment = '';
  for (let i = 0; i < path.length; i++) {
    let c = path.charCodeAt(i);
    if (c < 0x21 || c === 0x7f || c === 0x5c || c === 0x23) return 'forbidden character';
    if (c > 0x7e) return 'non-ascii character';
    if (c === 0x25) {
      const v = hex(path.charCodeAt(i + 1)) * 16 + hex(path.charCodeAt(i + 2));
      if (hex(path.charCodeAt(i + 1)) < 0 || hex(path.charCodeAt(i + 2)) < 0) return 'malformed percent-encoding';
      if (v === 0x2f || v === 0x5c) return 'encoded separator';
      if (v === 0x25 && hex(path.charCodeAt(i + 3)) >= 0 && hex(path.charCodeAt(i + 4)) >= 0) return 'double encoding';
      if (v < 0x20 || v === 0x7f) return 'encoded control character';
      c = v;
      i += 2;
    }
    if (c === 0x2f) {
      if (i > 0 && (segment === '.' || segment === '..')) return 'dot segment';
      if (i > 0 && i === segmentStart) return 'empty segment';
      segment = '';
      segmentStart = i + 1;
    } else if (segment.length < 3) {
      segment += String.fromCharCode(c);
    }
    bytes.push(c);
  }
  if (segment === '.' || segment === '..') return 'dot segment';
  if (path.indexOf('%') !== -1) {
    try {
      decoder.decode(Uint8Array.from(bytes));
    } catch {
      return 'invalid utf-8';
    }
  }
  return null;
}
