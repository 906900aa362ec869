/**
 * Where a JSON syntax error is, in the same terms as a YAML one (yaml-error-location.ts): the
 * JSON Pointer of the nearest key or item that starts before the error, and that key. V8's
 * JSON.parse message gives the offset (`at position N`); the text is invalid, so the scan here
 * never assumes a string or a container is closed. One linear pass up to the offset.
 */
import { MAX_KEY_LENGTH } from './limits.ts';
import { pointerOf } from './pointer.ts';

export interface JsonErrorLocation {
  /** Nearest understood node; '' when the error precedes every key and item. */
  readonly pointer: string;
  /** The deepest object key on the way to `pointer`, shortened to 40 characters, or null. */
  readonly key: string | null;
}

interface Frame {
  readonly array: boolean;
  /** Object: the last key read (null before the first); array: the index of the current item. */
  key: string | null;
  index: number;
  expectKey: boolean;
}

const MAX_KEY_CHARS = 40;

export function jsonErrorLocation(text: string, offset: number): JsonErrorLocation {
  const end = Math.max(0, Math.min(offset, text.length));
  const stack: Frame[] = [];
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      while (j < end && text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c /* \ */ ? 2 : 1;
      const top = stack.at(-1);
      if (top !== undefined && !top.array && top.expectKey) {
        top.key = decodeKey(text.slice(i + 1, Math.min(j, end)));
        top.expectKey = false;
      }
      i = j;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      const top = stack.at(-1);
      if (top?.array) top.expectKey = false; // an item started
      stack.push({ array: c === 0x5b, key: null, index: 0, expectKey: c === 0x7b });
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      const top = stack.at(-1);
      if (top?.array) top.index++;
      else if (top) top.expectKey = true;
    }
  }
  const segments: string[] = [];
  let key: string | null = null;
  for (const frame of stack) {
    if (frame.array) {
      segments.push(String(frame.index));
      key = null;
      continue;
    }
    if (frame.key === null || frame.key.length > MAX_KEY_LENGTH) break;
    segments.push(frame.key);
    key = frame.key;
  }
  return { pointer: pointerOf(segments), key: key === null ? null : key.length > MAX_KEY_CHARS ? `${key.slice(0, MAX_KEY_CHARS)}…` : key };
}

function decodeKey(raw: string): string {
  if (!raw.includes('\\')) return raw;
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw;
  }
}
