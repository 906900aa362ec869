/**
 * Small strict readers for the rollout policy document: each reads one member, pushes an issue
 * with a JSON Pointer when it is wrong and returns the default then, so one pass reports every
 * problem. Absent members take their default; `null` is a wrong type, not "absent".
 */
import type { ConfigIssue } from '@spooky/config';
import { escapePointer } from '@spooky/config';

export interface Reader {
  readonly issues: ConfigIssue[];
}

export interface NumberRule {
  readonly min: number;
  readonly max: number;
  readonly int?: boolean;
  /** `min` itself is refused (e.g. a percent of 0). */
  readonly exclusiveMin?: boolean;
}

/** The object at `ptr` with only `allowed` keys (each other key is an issue), or null when not an object. */
export function readObject(r: Reader, value: unknown, ptr: string, allowed: readonly string[]): Record<string, unknown> | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    r.issues.push({ pointer: ptr, code: 'rollout.type', message: 'must be an object' });
    return null;
  }
  const o = value as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!allowed.includes(key)) {
      r.issues.push({ pointer: `${ptr}/${escapePointer(key)}`, code: 'rollout.unknown_key', message: `unknown key "${key}"` });
    }
  }
  return o;
}

export function readNumber(r: Reader, o: Record<string, unknown>, key: string, ptr: string, fallback: number, rule: NumberRule): number {
  const v = o[key];
  if (v === undefined) return fallback;
  const pointer = `${ptr}/${escapePointer(key)}`;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    r.issues.push({ pointer, code: 'rollout.type', message: `${key} must be a number` });
    return fallback;
  }
  if (rule.int === true && !Number.isInteger(v)) {
    r.issues.push({ pointer, code: 'rollout.type', message: `${key} must be an integer` });
    return fallback;
  }
  const low = rule.exclusiveMin === true ? v <= rule.min : v < rule.min;
  if (low || v > rule.max) {
    const lower = rule.exclusiveMin === true ? `more than ${rule.min}` : `at least ${rule.min}`;
    r.issues.push({ pointer, code: 'rollout.range', message: `${key} must be ${lower} and at most ${rule.max}, not ${v}` });
    return fallback;
  }
  return v;
}

/** A whole number of milliseconds in [min, max]. */
export function readIntMs(r: Reader, o: Record<string, unknown>, key: string, ptr: string, fallback: number, max: number, min = 0): number {
  return readNumber(r, o, key, ptr, fallback, { min, max, int: true });
}

export function readString(r: Reader, o: Record<string, unknown>, key: string, ptr: string, fallback: string, pattern: RegExp): string {
  const v = o[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || !pattern.test(v)) {
    const message = `${key} must be a string matching ${pattern.source}`;
    r.issues.push({ pointer: `${ptr}/${escapePointer(key)}`, code: typeof v === 'string' ? 'rollout.pattern' : 'rollout.type', message });
    return fallback;
  }
  return v;
}
