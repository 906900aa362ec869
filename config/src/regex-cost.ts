/**
 * The compile-time cost bound for route regexes. JavaScript's backtracking engine can take
 * exponential time on patterns like `(a+)+$`; a route regex runs on every request, so only
 * patterns whose matching cost is clearly bounded are accepted:
 *  - at most 256 characters and a valid `u`-mode pattern;
 *  - no backreferences and no lookaround (they defeat the reasoning below);
 *  - no quantified group that itself contains an unbounded quantifier (nested quantifiers);
 *  - no repetition bound above 1000.
 * This is deliberately conservative: it rejects some harmless patterns rather than admit a
 * slow one. Matching is always anchored to the whole value (`^(?:…)$`).
 */

export const MAX_REGEX_LENGTH = 256;
export const MAX_REPEAT = 1000;

export type RegexVerdict = { readonly ok: true } | { readonly ok: false; readonly code: string; readonly reason: string };

export function checkRegexCost(pattern: string): RegexVerdict {
  if (pattern.length > MAX_REGEX_LENGTH) return no('route.matcher.regex_cost', `regex is longer than ${MAX_REGEX_LENGTH} characters`);
  try {
    new RegExp(pattern, 'u');
  } catch (err) {
    return no('route.matcher.regex_invalid', `regex does not compile: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`);
  }
  if (/\\[1-9]|\\k</.test(pattern)) return no('route.matcher.regex_cost', 'backreferences are not allowed');
  if (/\(\?<?[=!]/.test(pattern)) return no('route.matcher.regex_cost', 'lookaround is not allowed');

  // One frame per open group: does it contain an unbounded quantifier?
  const stack: boolean[] = [false];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '[') {
      i = skipClass(pattern, i);
      continue;
    }
    if (c === '(') {
      stack.push(false);
      continue;
    }
    const q = quantifierAt(pattern, i);
    if (c === ')') {
      const inner = stack.pop() ?? false;
      const after = quantifierAt(pattern, i + 1);
      if (after && !after.unbounded && after.max > MAX_REPEAT) return no('route.matcher.regex_cost', `repetition bound above ${MAX_REPEAT}`);
      if (after && inner && after.max > 1) {
        return no('route.matcher.regex_cost', 'nested quantifiers (a repeated group containing + * or {n,}) can take exponential time');
      }
      if (inner || after?.unbounded) stack[stack.length - 1] = true;
      if (after) i += after.length;
      continue;
    }
    if (q) {
      if (q.max > MAX_REPEAT && !q.unbounded) return no('route.matcher.regex_cost', `repetition bound above ${MAX_REPEAT}`);
      if (q.unbounded) stack[stack.length - 1] = true;
      i += q.length - 1;
    }
  }
  return { ok: true };
}

function no(code: string, reason: string): RegexVerdict {
  return { ok: false, code, reason };
}

function skipClass(p: string, start: number): number {
  for (let i = start + 1; i < p.length; i++) {
    if (p[i] === '\\') i++;
    else if (p[i] === ']') return i;
  }
  return p.length;
}

interface Quantifier {
  readonly length: number;
  readonly max: number;
  readonly unbounded: boolean;
}

/** The quantifier starting at i (including a lazy `?`), or null. */
function quantifierAt(p: string, i: number): Quantifier | null {
  const c = p[i];
  let q: Quantifier | null = null;
  if (c === '*' || c === '+') q = { length: 1, max: Infinity, unbounded: true };
  else if (c === '?') q = { length: 1, max: 1, unbounded: false };
  else if (c === '{') {
    const m = /^\{(\d+)(,(\d*))?\}/.exec(p.slice(i));
    if (m) {
      const max = m[2] === undefined ? Number(m[1]) : m[3] === '' ? Infinity : Number(m[3]);
      q = { length: m[0].length, max, unbounded: max === Infinity };
    }
  }
  if (q && p[i + q.length] === '?') q = { ...q, length: q.length + 1 };
  return q;
}
