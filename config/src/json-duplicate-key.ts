/**
 * JSON.parse keeps the last of two equal keys in one object; a config whose reviewer reads
 * the first value while the proxy serves the second is a trap (YAML input refuses repeated
 * keys through `uniqueKeys`). `jsonDuplicateKey` finds the first repeated key of a text that
 * JSON.parse already accepted, with the JSON Pointer of its second occurrence.
 *
 * One pass over the text (~6 ms per MB here, about JSON.parse's own cost): strings are
 * skipped with indexOf (a key's escapes are decoded only when it has any), objects keep a Set
 * of the keys seen so far. The nesting depth is already
 * bounded by text-depth.ts before this runs.
 */
import { pointerOf } from './pointer.ts';

interface ObjectFrame {
  readonly array: false;
  readonly keys: Set<string>;
  key: string;
  expectKey: boolean;
}

interface ArrayFrame {
  readonly array: true;
  index: number;
}

type Frame = ObjectFrame | ArrayFrame;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Index of the quote that ends the string opened at `open`. */
function stringEnd(text: string, open: number): number {
  let i = text.indexOf('"', open + 1);
  for (;;) {
    let slashes = 0;
    for (let j = i - 1; text.charCodeAt(j) === BACKSLASH; j--) slashes++;
    if (slashes % 2 === 0) return i;
    i = text.indexOf('"', i + 1);
  }
}

function pathOf(stack: readonly Frame[], last: string): string {
  const segments: string[] = [];
  for (let k = 0; k < stack.length - 1; k++) {
    const f = stack[k] as Frame;
    segments.push(f.array ? String(f.index) : f.key);
  }
  segments.push(last);
  return pointerOf(segments);
}

/** null when every object's keys are distinct; `text` must be valid JSON. */
export function jsonDuplicateKey(text: string): { readonly pointer: string; readonly key: string } | null {
  const stack: Frame[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      const top = stack.at(-1);
      if (top !== undefined && !top.array && top.expectKey) {
        const raw = text.slice(i + 1, end);
        const key = raw.includes('\\') ? (JSON.parse(text.slice(i, end + 1)) as string) : raw;
        if (top.keys.has(key)) return { pointer: pathOf(stack, key), key };
        top.keys.add(key);
        top.key = key;
        top.expectKey = false;
      }
      i = end;
    } else if (c === 0x7b /* { */) {
      stack.push({ array: false, keys: new Set(), key: '', expectKey: true });
    } else if (c === 0x5b /* [ */) {
      stack.push({ array: true, index: 0 });
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      const top = stack.at(-1);
      if (top === undefined) continue;
      if (top.array) top.index++;
      else top.expectKey = true;
    }
  }
  return null;
}
