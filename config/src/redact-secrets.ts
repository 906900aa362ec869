/**
 * Redaction of secret-looking values before they leave the control plane (diffs, generation
 * documents, errors). Deliberately over-eager: a value is replaced by `"[redacted]"` when it
 * sits at a key named `key`, `token`, `secret`, `password`, `key_file`, `key_path` or ending in
 * `_key`, `_token`, `_secret`, `_password`, `_key_file`, `_key_path` (case-insensitive; the whole
 * value, whatever its type), or when it is a string containing a PEM header (`-----BEGIN`),
 * wherever it is. Private-key *paths* are secrets too: listener `tls.key` holds a file path, not
 * key material, and is always redacted (a path names where the key lives and often who it is
 * for). One exception: `load_balancing.key` holds a request-key *spec* (`header:x-user`, `path`,
 * …), kept readable when it sits directly under `load_balancing` and has exactly that form,
 * because an operator must see a changed hash key in a diff.
 */
import { LB_KEY_PATTERN } from './schema.ts';

const LB_KEY = new RegExp(LB_KEY_PATTERN);

export const REDACTED = '[redacted]';

const SECRET_NAMES: ReadonlySet<string> = new Set(['key', 'token', 'secret', 'password', 'key_file', 'key_path']);
const SECRET_SUFFIXES = ['_key', '_token', '_secret', '_password', '_key_file', '_key_path'] as const;

/** True when a value stored under `name` is treated as a secret. */
export function isSecretKey(name: string): boolean {
  const n = name.toLowerCase();
  return SECRET_NAMES.has(n) || SECRET_SUFFIXES.some((s) => n.endsWith(s));
}

export function looksLikePem(value: string): boolean {
  return value.includes('-----BEGIN');
}

/**
 * A redacted deep copy of the JSON value `value`, which is stored under the object key `field`
 * of an object itself stored under `parent` ('' for none; array elements count as stored under
 * their array's key).
 */
export function redactSecrets(value: unknown, field = '', parent = ''): unknown {
  if (field === 'key' && parent === 'load_balancing' && typeof value === 'string' && LB_KEY.test(value)) return value;
  if (field !== '' && isSecretKey(field)) return REDACTED;
  if (typeof value === 'string') return looksLikePem(value) ? REDACTED : value;
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v, field, parent));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactSecrets(v, k, field);
    return out;
  }
  return value;
}
