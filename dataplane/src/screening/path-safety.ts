/**
 * Pure path sanity for request targets. Refuses anything two components could read
 * differently, so the path an origin resolves is the path routing saw:
 *   - no leading `/`, `//` (empty segment), backslash, `#`, control or non-ASCII characters;
 *   - `.`/`..` segments, also percent-encoded (`%2e`), also hidden behind a `;` path
 *     parameter (`..;/`, `.;x/`, `%2e%2e%3b/`: servlet containers strip `;…` before
 *     resolving dot segments), and segments that are only a parameter (`/;x/`);
 *   - encoded `/` or `\`, encoded control characters, malformed percent-encoding;
 *   - double encoding: a decoded `%` followed by two hex digits (`%252e`, `%25%32%65`);
 *   - invalid UTF-8 after decoding (overlong `%c0%ae`, surrogates, truncated sequences);
 *   - non-ASCII text whose NFKC form (what Unicode-normalising origins compare) contains a
 *     separator or a dot segment (fullwidth `．．`, `／`).
 * Only the path is checked; the query is the origin's business.
 */

const decoder = new TextDecoder('utf-8', { fatal: true });

function hex(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/**
 * Problem with one segment, from its decoded length and first three decoded characters (all
 * that decides whether the name before `;` is empty, `.` or `..`), or null. `last`: the
 * segment ends the path.
 */
function segmentProblem(length: number, c0: number, c1: number, c2: number, last: boolean): string | null {
  if (length === 0) return last ? null : 'empty segment';
  if (c0 === 0x3b) return 'parameter-only segment';
  if (c0 !== 0x2e) return null;
  if (length === 1 || c1 === 0x3b) return 'dot segment';
  if (c1 === 0x2e && (length === 2 || c2 === 0x3b)) return 'dot segment';
  return null;
}

/**
 * null when `target`'s path is acceptable, else a short reason (for debug logs only).
 * Allocates nothing for a path without `%` (the decoded bytes are kept only when there is
 * something to decode: double encoding and UTF-8 need them).
 */
export function pathProblem(target: string): string | null {
  if (target.charCodeAt(0) !== 0x2f) return 'must start with /';
  const q = target.indexOf('?');
  const end = q === -1 ? target.length : q;
  const pct = target.indexOf('%');
  const bytes: number[] | null = pct !== -1 && pct < end ? [] : null;
  let nonAscii = false;
  // The current segment's decoded length (capped at 3) and first three decoded characters.
  let length = 0;
  let c0 = 0;
  let c1 = 0;
  let c2 = 0;
  // Reading past `end` finds the `?` (never a hex digit) or NaN, as a sliced path would.
  for (let i = 1; i < end; i++) {
    let c = target.charCodeAt(i);
    if (c < 0x21 || c === 0x7f || c === 0x5c || c === 0x23) return 'forbidden character';
    if (c > 0x7e) return 'non-ascii character';
    if (c === 0x2f) {
      const problem = segmentProblem(length, c0, c1, c2, false);
      if (problem !== null) return problem;
      length = 0;
      bytes?.push(c);
      continue;
    }
    if (c === 0x25) {
      const hi = hex(target.charCodeAt(i + 1));
      const lo = hex(target.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) return 'malformed percent-encoding';
      c = hi * 16 + lo;
      if (c === 0x2f || c === 0x5c) return 'encoded separator';
      if (c < 0x20 || c === 0x7f) return 'encoded control character';
      if (c > 0x7f) nonAscii = true;
      i += 2;
    }
    if (length === 0) c0 = c;
    else if (length === 1) c1 = c;
    else if (length === 2) c2 = c;
    if (length < 3) length++;
    bytes?.push(c);
  }
  const problem = segmentProblem(length, c0, c1, c2, true);
  if (problem !== null) return problem;
  if (bytes === null) return null;
  for (let k = 0; k + 2 < bytes.length; k++) {
    if (bytes[k] === 0x25 && hex(bytes[k + 1] as number) >= 0 && hex(bytes[k + 2] as number) >= 0) return 'double encoding';
  }
  if (nonAscii) {
    let text: string;
    try {
      text = decoder.decode(Uint8Array.from(bytes));
    } catch {
      return 'invalid utf-8';
    }
    return unicodeProblem(text);
  }
  return null;
}

function count(text: string, ch: string): number {
  let n = 0;
  for (let i = text.indexOf(ch); i !== -1; i = text.indexOf(ch, i + 1)) n++;
  return n;
}

/**
 * The decoded path as a Unicode-normalising origin would see it (NFKC) must keep its
 * structure: no new `/`, `\` or `%`, no segment folding into `.`/`..`; no C1 controls.
 */
function unicodeProblem(decoded: string): string | null {
  for (let i = 0; i < decoded.length; i++) {
    const c = decoded.charCodeAt(i);
    if (c >= 0x80 && c <= 0x9f) return 'encoded control character';
  }
  const folded = decoded.normalize('NFKC');
  if (folded === decoded) return null;
  if (count(folded, '/') !== count(decoded, '/') || count(folded, '%') !== count(decoded, '%') || folded.indexOf('\\') !== -1) {
    return 'unicode-folded separator';
  }
  const segments = folded.split('/');
  for (let s = 0; s < segments.length; s++) {
    const segment = segments[s] as string;
    const problem = segmentProblem(segment.length, segment.charCodeAt(0), segment.charCodeAt(1), segment.charCodeAt(2), s === segments.length - 1);
    if (problem !== null) return `unicode-folded ${problem}`;
  }
  return null;
}
