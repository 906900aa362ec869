/**
 * The on-disk form of the last good generation (CONTROL-PLANE.md "gRPC ConfigSync", rule 8) and
 * the pure verdict on a cache file's text. No I/O: generation-cache.ts reads, writes and
 * quarantines; cold-start.ts decides what to do with the verdict.
 *
 * File format (JSON, one object):
 *   {"format": 1, "scope": "...", "seq": 7, "digest": "sha256:<hex>",
 *    "savedAt": "<ISO 8601 UTC>", "payload": "<canonical JSON text of the generation>"}
 * `digest` is sha256 over the UTF-8 bytes of `payload`, the same digest the control plane
 * pushed; a cache file is only ever served whole, after that digest checks out.
 */
import { DIGEST_PATTERN, digest } from '@spooky/config';
import type { GenerationRef } from '../control/generation-applier.ts';

export const CACHE_FORMAT = 1;

/** A savedAt further in the future than this is treated as stale (a clock that jumped back). */
export const MAX_FUTURE_SKEW_MS = 60_000;

export interface CacheEntry {
  readonly ref: GenerationRef;
  /** Canonical JSON text of the generation. */
  readonly payload: string;
  readonly savedAtMs: number;
}

/** Stable codes for every way a cache file is not served. */
export type CacheRefusalCode = 'cache.missing' | 'cache.corrupt' | 'cache.stale' | 'cache.scope_mismatch';

export type CacheVerdict =
  | { readonly kind: 'usable'; readonly entry: CacheEntry }
  /** Unreadable as a whole generation (bad JSON, truncated, wrong fields, digest mismatch): quarantine it. */
  | { readonly kind: 'corrupt'; readonly code: 'cache.corrupt'; readonly reason: string }
  /** Intact but older than the max age: keep the file (the next push overwrites it), serve nothing. */
  | { readonly kind: 'stale'; readonly code: 'cache.stale'; readonly reason: string; readonly entry: CacheEntry }
  /** Intact but for another scope (the node was moved): keep the file, serve nothing. */
  | { readonly kind: 'scope-mismatch'; readonly code: 'cache.scope_mismatch'; readonly reason: string; readonly entry: CacheEntry };

export interface CacheExpectation {
  readonly scope: string;
  readonly maxAgeMs: number;
  readonly nowMs: number;
}

/** The file's text for `entry` (savedAt written as ISO 8601). */
export function encodeCacheEntry(entry: CacheEntry): string {
  return JSON.stringify({
    format: CACHE_FORMAT,
    scope: entry.ref.scope,
    seq: entry.ref.seq,
    digest: entry.ref.digest,
    savedAt: new Date(entry.savedAtMs).toISOString(),
    payload: entry.payload,
  });
}

/** Judges a cache file's whole text: usable only if every field is sound, the digest matches, the scope is ours and it is young enough. */
export function judgeCacheText(text: string, expect: CacheExpectation): CacheVerdict {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return corrupt(`not valid JSON (truncated or damaged, ${text.length} chars): ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return corrupt('not a JSON object');
  const o = raw as Record<string, unknown>;
  if (o['format'] !== CACHE_FORMAT) return corrupt(`unknown format ${JSON.stringify(o['format'])}, expected ${CACHE_FORMAT}`);
  const { scope, seq, savedAt, payload } = o;
  const dg = o['digest'];
  if (typeof scope !== 'string' || scope === '') return corrupt('scope missing');
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) return corrupt('seq missing or not a non-negative integer');
  if (typeof dg !== 'string' || !DIGEST_PATTERN.test(dg)) return corrupt('digest missing or malformed');
  if (typeof payload !== 'string') return corrupt('payload missing');
  if (typeof savedAt !== 'string' || Number.isNaN(Date.parse(savedAt))) return corrupt('savedAt missing or not a date');
  const actual = digest(payload);
  if (actual !== dg) return corrupt(`payload digest ${actual} differs from the recorded ${dg}`);

  const entry: CacheEntry = { ref: { scope, seq, digest: dg }, payload, savedAtMs: Date.parse(savedAt) };
  if (scope !== expect.scope) {
    return { kind: 'scope-mismatch', code: 'cache.scope_mismatch', reason: `cached generation is for scope "${scope}", this node serves "${expect.scope}"`, entry };
  }
  const ageMs = expect.nowMs - entry.savedAtMs;
  if (ageMs < -MAX_FUTURE_SKEW_MS) {
    return { kind: 'stale', code: 'cache.stale', reason: `cache savedAt ${savedAt} is in the future (clock skew); not trusted`, entry };
  }
  if (ageMs > expect.maxAgeMs) {
    return {
      kind: 'stale',
      code: 'cache.stale',
      reason: `cached generation seq ${seq} was saved ${formatAge(ageMs)} ago (${savedAt}), older than the max age ${formatAge(expect.maxAgeMs)}`,
      entry,
    };
  }
  return { kind: 'usable', entry };
}

function corrupt(reason: string): CacheVerdict {
  return { kind: 'corrupt', code: 'cache.corrupt', reason };
}

/** 1500 → "1.5s", 90000 → "90s", 7200000 → "2h"; for log messages only. */
export function formatAge(ms: number): string {
  if (ms < 120_000) return `${Math.round(ms / 100) / 10}s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)}m`;
  return `${Math.round(ms / 360_000) / 10}h`;
}
