/**
 * The five ordered timeouts of `performance` and `upstream.<name>.timeouts`, and the Rust
 * Spooky's spellings of them (aliases).
 *
 * Ordering rule: connect ≤ headers ≤ body idle ≤ body total ≤ request. It is checked among the
 * values a block *gives* (`timeouts.order`). A value the block leaves out (a default, or for an
 * upstream the global value) is clamped into the range the given ones leave: at least the
 * largest given value before it, at most the smallest given value after it. So a Rust config
 * that sets only `backend_total_request_timeout_ms: 35000` runs with a body idle bound of 35 s
 * rather than being refused because our default (60 s) is larger.
 *
 * Aliases: each key may be given in our spelling or the Rust one; both only with equal values
 * (`config.alias_conflict` at the Rust key). The normalized config keeps our spelling.
 */
import { escapePointer } from './pointer.ts';
import type { ConfigIssue, Timeouts } from './types.ts';

export const TIMEOUT_ORDER = [
  'upstream_connect_timeout_ms',
  'upstream_headers_timeout_ms',
  'upstream_body_idle_timeout_ms',
  'upstream_body_total_timeout_ms',
  'request_timeout_ms',
] as const;

export type TimeoutKey = (typeof TIMEOUT_ORDER)[number];

/** Our key → the Rust Spooky's key meaning the same. */
export const TIMEOUT_ALIASES: Readonly<Record<TimeoutKey, string>> = {
  upstream_connect_timeout_ms: 'backend_connect_timeout_ms',
  upstream_headers_timeout_ms: 'backend_timeout_ms',
  upstream_body_idle_timeout_ms: 'backend_body_idle_timeout_ms',
  upstream_body_total_timeout_ms: 'backend_body_total_timeout_ms',
  request_timeout_ms: 'backend_total_request_timeout_ms',
};

type Block = Readonly<Record<string, unknown>> | undefined;

/** The value of `ours`, else of its alias; undefined when neither is given. */
export function aliased(block: Block, ours: string, alias: string): number | undefined {
  const v = block?.[ours] ?? block?.[alias];
  return typeof v === 'number' ? v : undefined;
}

/** `config.alias_conflict` when a block gives both spellings with different values. */
export function aliasIssue(block: Block, ours: string, alias: string, pointer: string): ConfigIssue | null {
  const a = block?.[ours];
  const b = block?.[alias];
  if (a === undefined || b === undefined || a === b) return null;
  return {
    pointer: `${pointer}/${escapePointer(alias)}`,
    code: 'config.alias_conflict',
    message: `${alias} is the Rust spelling of ${ours}; give one of them, or both with the same value`,
  };
}

/** The timeouts a block gives, in our spelling. */
export function givenTimeouts(block: Block): Partial<Record<TimeoutKey, number>> {
  const out: Partial<Record<TimeoutKey, number>> = {};
  for (const key of TIMEOUT_ORDER) {
    const v = aliased(block, key, TIMEOUT_ALIASES[key]);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

/** All five: given values as given, the others from `base` clamped into the given order. */
export function resolveTimeouts(given: Partial<Record<TimeoutKey, number>>, base: Timeouts): Timeouts {
  const out = { ...base } as Record<TimeoutKey, number | null>;
  TIMEOUT_ORDER.forEach((key, i) => {
    const own = given[key];
    if (own !== undefined) {
      out[key] = own;
      return;
    }
    const b = base[key];
    if (b === null) return; // no separate bound: constrains nothing
    let lo = 0;
    let hi = Number.POSITIVE_INFINITY;
    TIMEOUT_ORDER.forEach((other, j) => {
      const v = given[other];
      if (v === undefined) return;
      if (j < i) lo = Math.max(lo, v);
      if (j > i) hi = Math.min(hi, v);
    });
    out[key] = Math.min(Math.max(b, lo), hi);
  });
  return out as unknown as Timeouts;
}

/**
 * Issues of one timeouts block at `pointer`: alias conflicts, and each given value larger than
 * a given later one (`timeouts.order`, at the smaller-ranked key as written, naming the first
 * later key it exceeds).
 */
export function timeoutIssues(block: Block, pointer: string): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const key of TIMEOUT_ORDER) {
    const issue = aliasIssue(block, key, TIMEOUT_ALIASES[key], pointer);
    if (issue) issues.push(issue);
  }
  const given = givenTimeouts(block);
  const spelled = (key: TimeoutKey) => (block?.[key] !== undefined ? key : TIMEOUT_ALIASES[key]);
  TIMEOUT_ORDER.forEach((key, i) => {
    const v = given[key];
    if (v === undefined) return;
    for (const later of TIMEOUT_ORDER.slice(i + 1)) {
      const w = given[later];
      if (w === undefined || v <= w) continue;
      issues.push({
        pointer: `${pointer}/${escapePointer(spelled(key))}`,
        code: 'timeouts.order',
        message: `${spelled(key)} (${v}) must not exceed ${spelled(later)} (${w})`,
      });
      break;
    }
  });
  return issues;
}
