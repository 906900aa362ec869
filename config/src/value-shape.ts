/**
 * Shape limits of a decoded config value, checked before the schema: nesting depth, string and
 * key lengths. The schema and every later step walk the value recursively and copy its strings
 * into the canonical form, issue messages and pointers; this bounds all of them. Returns the
 * first violation found (depth-first, document order), or null.
 */
import { MAX_KEY_LENGTH, MAX_NESTING_DEPTH, MAX_STRING_LENGTH } from './limits.ts';
import { pointerOf } from './pointer.ts';
import type { ConfigIssue } from './types.ts';

export function valueShapeIssue(value: unknown): ConfigIssue | null {
  const path: string[] = [];
  const at = (code: string, message: string): ConfigIssue => ({ pointer: pointerOf(path), code, message });

  // `depth`: containers enclosing `v`. Recursion is bounded by MAX_NESTING_DEPTH.
  const visit = (v: unknown, depth: number): ConfigIssue | null => {
    if (typeof v === 'string') {
      return v.length > MAX_STRING_LENGTH ? at('budget.string', `string is longer than ${MAX_STRING_LENGTH} characters`) : null;
    }
    if (v === null || typeof v !== 'object') return null;
    if (depth + 1 > MAX_NESTING_DEPTH) return { pointer: '', code: 'config.too_deep', message: `nesting is deeper than ${MAX_NESTING_DEPTH} levels` };
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        path.push(String(i));
        const found = visit(v[i], depth + 1);
        if (found) return found;
        path.pop();
      }
      return null;
    }
    for (const [key, child] of Object.entries(v)) {
      if (key.length > MAX_KEY_LENGTH) return at('budget.key', `a key is longer than ${MAX_KEY_LENGTH} characters`);
      path.push(key);
      const found = visit(child, depth + 1);
      if (found) return found;
      path.pop();
    }
    return null;
  };
  return visit(value, 0);
}
