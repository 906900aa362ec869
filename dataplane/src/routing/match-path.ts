/**
 * The path routing matches on: the request target without query or fragment, with
 * percent-escapes of unreserved bytes (ALPHA / DIGIT / - . _ ~) decoded, so `/%61pi` routes
 * like `/api`. Other escapes stay as received (screening already refused the ambiguous ones:
 * encoded `/`, `\`, dot segments, double encoding). The target itself is forwarded unchanged.
 */

function isUnreserved(code: number): boolean {
  return (
    (code >= 0x41 && code <= 0x5a) ||
    (code >= 0x61 && code <= 0x7a) ||
    (code >= 0x30 && code <= 0x39) ||
    code === 0x2d ||
    code === 0x2e ||
    code === 0x5f ||
    code === 0x7e
  );
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

export function matchingPath(target: string): string {
  let end = target.length;
  const q = target.indexOf('?');
  if (q !== -1) end = q;
  const h = target.indexOf('#');
  if (h !== -1 && h < end) end = h;
  const path = end === target.length ? target : target.slice(0, end);
  if (path.indexOf('%') === -1) return path;
  let out = '';
  let last = 0;
  for (let i = path.indexOf('%'); i !== -1 && i + 2 < path.length; i = path.indexOf('%', i + 1)) {
    const hi = hexValue(path.charCodeAt(i + 1));
    const lo = hexValue(path.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) continue;
    const code = hi * 16 + lo;
    if (!isUnreserved(code)) continue;
    out += path.slice(last, i) + String.fromCharCode(code);
    last = i + 3;
    i += 2;
  }
  return last === 0 ? path : out + path.slice(last);
}
