/**
 * Canonical JSON and digest. Canonical = the normalized Config serialized with object keys
 * sorted at every level, no whitespace, and object members whose value is null left out (in a
 * Config, null means "absent"). The canonical document is itself a valid config input:
 * parseConfig(JSON.parse(canonicalJson(c))) yields c again, which is how a data plane reads the
 * bytes it is pushed. Two configs that mean the same thing (same values after
 * defaults) have the same bytes and so the same digest, whatever key order or format they were
 * written in. digest = `sha256:<lowercase hex>` of those bytes.
 */
import { createHash } from 'node:crypto';
import type { Config } from './types.ts';

export function canonicalJson(value: Config | unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined && v !== null) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

/** Digest of canonical JSON bytes (or of a Config, canonicalized first). */
export function digest(input: Config | string | Uint8Array): string {
  const bytes = typeof input === 'string' || input instanceof Uint8Array ? input : canonicalJson(input);
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export const DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;
