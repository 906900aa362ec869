/**
 * Where a YAML syntax error is, in words a config author can act on: the line and column of
 * the error and the JSON Pointer of the nearest node the parser did understand (the last key
 * or item that starts at or before the error, as deep as the partial tree goes), plus that
 * key. `invalid YAML at line 5, column 5 (key "lb")` with pointer `/upstream/api/lb` instead of
 * pointer `/` for the whole document.
 *
 * Called by parseConfigText on the first error of a document the yaml library composed with
 * errors (its `contents` is then a best-effort tree). One descent from the root, no recursion:
 * cost linear in the items passed on the way down, so a hostile document costs no more here
 * than it already cost to compose.
 */
import { type Document, isMap, isPair, isScalar, isSeq } from 'yaml';
import { MAX_KEY_LENGTH } from './limits.ts';
import { pointerOf } from './pointer.ts';

export interface YamlErrorLocation {
  /** 1-based. */
  readonly line: number;
  /** 1-based, in UTF-16 code units like the yaml library's own positions. */
  readonly column: number;
  /**
   * Pointer of the nearest understood node; '' when the error precedes every node. A key longer
   * than MAX_KEY_LENGTH ends the descent, so the pointer stays short.
   */
  readonly pointer: string;
  /** The deepest mapping key on the way to `pointer`, or null (root, or a sequence item). */
  readonly key: string | null;
}

/** A key is shown in a message at most this long (keys are names, never values). */
const MAX_KEY_CHARS = 40;

export function yamlErrorLocation(text: string, doc: Document, offset: number): YamlErrorLocation {
  const at = Math.max(0, Math.min(offset, text.length));
  const { line, column } = lineColumn(text, at);
  const segments: string[] = [];
  let key: string | null = null;
  let node: unknown = doc.contents;
  while (isMap(node) || isSeq(node)) {
    const items = node.items as unknown[];
    let chosen = -1;
    for (let i = 0; i < items.length; i++) {
      const start = startOf(items[i]);
      if (start === null || start > at) break;
      chosen = i;
    }
    if (chosen < 0) break;
    const item = items[chosen];
    if (isMap(node)) {
      if (!isPair(item) || !isScalar(item.key)) break;
      const name = String(item.key.value);
      // A key longer than any valid one is itself the problem: point at its mapping.
      if (name.length > MAX_KEY_LENGTH) break;
      segments.push(name);
      key = name;
      node = item.value;
    } else {
      segments.push(String(chosen));
      key = null;
      node = item;
    }
    const valueStart = startOf(node);
    if (valueStart === null || valueStart > at) break;
  }
  return { line, column, pointer: pointerOf(segments), key: key === null ? null : shortKey(key) };
}

/** Start offset of a pair (its key) or a node; null when the parser left none. */
function startOf(item: unknown): number | null {
  const target = isPair(item) ? item.key : item;
  const range = (target as { range?: readonly number[] } | null)?.range;
  return range === undefined || range === null ? null : (range[0] ?? null);
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

function shortKey(key: string): string {
  return key.length > MAX_KEY_CHARS ? `${key.slice(0, MAX_KEY_CHARS)}…` : key;
}
