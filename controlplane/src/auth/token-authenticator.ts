/**
 * Bearer-token authentication against a tokens file:
 *   {"tokens":[{"name":"demo","sha256":"<hex sha256 of the token>","permissions":["admin"],
 *               "scopes":["*"],"expiresAt":"2027-01-01T00:00:00Z"}]}
 * Only hashes are stored. `scopes` are patterns (`default`, `prod-*`, `*`); `expiresAt`
 * (optional, ISO 8601) makes the token invalid (401) from that instant. A presented token is
 * hashed and compared with every entry in constant time (no early exit), so timing reveals
 * neither which entry nor how many bytes matched. Tokens are never logged nor put in errors.
 * An authenticator made by `fromFile` re-reads the file when its identity (inode, size, mtime)
 * changes, checked with one stat per request, so a revocation applies without a restart; a
 * file that fails to load keeps the previous tokens and is reported to `onReloadError`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { CpError } from '../errors.ts';
import { PERMISSIONS, type Permission, type Principal } from './permissions.ts';

interface TokenEntry {
  readonly hash: Buffer;
  readonly principal: Principal;
  /** Epoch ms from which the token is refused; null = never expires. */
  readonly expiresAtMs: number | null;
}

export interface TokenAuthenticatorOptions {
  /** Clock for expiry; default Date.now. */
  readonly now?: () => number;
  /** Called when a changed tokens file cannot be loaded (the previous tokens stay in force). */
  readonly onReloadError?: (err: unknown) => void;
}

export type AuthFailureReason = 'missing' | 'malformed' | 'unknown' | 'expired';

export type AuthCheck =
  | { readonly ok: true; readonly principal: Principal }
  | {
      readonly ok: false;
      readonly reason: AuthFailureReason;
      /** The entry's name when the token is known (expired). */
      readonly tokenName?: string;
      /** tokenFingerprint of the presented token, when one was presented. */
      readonly fingerprint?: string;
    };

const HEX_SHA256 = /^[0-9a-f]{64}$/;
/** Scope pattern: a scope name whose characters may include `*`. */
export const SCOPE_PATTERN_SYNTAX = /^[a-z0-9*][a-z0-9*-]{0,62}$/;

export class TokenAuthenticator {
  #entries: readonly TokenEntry[];
  readonly #now: () => number;
  readonly #file: { readonly path: string; stamp: string; readonly onError: (err: unknown) => void } | null;

  constructor(entries: readonly TokenEntry[], options: TokenAuthenticatorOptions = {}, file: string | null = null) {
    this.#entries = entries;
    this.#now = options.now ?? Date.now;
    this.#file = file === null ? null : { path: file, stamp: fileStamp(file), onError: options.onReloadError ?? (() => {}) };
  }

  /** Parses the tokens file's JSON text; throws tokens_invalid naming the bad entry (never a secret). */
  static fromJson(text: string, options: TokenAuthenticatorOptions = {}): TokenAuthenticator {
    return new TokenAuthenticator(parseTokensJson(text), options);
  }

  /** Loads `path` now (throws tokens_invalid) and reloads it whenever it changes. */
  static fromFile(path: string, options: TokenAuthenticatorOptions = {}): TokenAuthenticator {
    const stampBefore = fileStamp(path);
    const auth = new TokenAuthenticator(parseTokensJson(readTokensText(path)), options, path);
    // A write between the stamp and the read makes the next request load again: harmless.
    if (auth.#file) auth.#file.stamp = stampBefore;
    return auth;
  }

  /** The principal for an `Authorization` header value, or null (missing, malformed, unknown, expired). */
  authenticate(authorization: string | undefined): Principal | null {
    const result = this.check(authorization);
    return result.ok ? result.principal : null;
  }

  /** Like authenticate, saying why a header failed (for throttling, metrics and logs). */
  check(authorization: string | undefined): AuthCheck {
    this.#reloadIfChanged();
    if (!authorization) return { ok: false, reason: 'missing' };
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization);
    if (!match?.[1]) return { ok: false, reason: 'malformed' };
    const presented = createHash('sha256').update(match[1]).digest();
    let found: TokenEntry | null = null;
    for (const entry of this.#entries) {
      if (timingSafeEqual(presented, entry.hash) && found === null) found = entry;
    }
    const fingerprint = tokenFingerprint(match[1]);
    if (found === null) return { ok: false, reason: 'unknown', fingerprint };
    if (found.expiresAtMs !== null && this.#now() >= found.expiresAtMs) {
      return { ok: false, reason: 'expired', tokenName: found.principal.name, fingerprint };
    }
    return { ok: true, principal: found.principal };
  }

  #reloadIfChanged(): void {
    const file = this.#file;
    if (!file) return;
    const stamp = fileStamp(file.path);
    if (stamp === file.stamp) return;
    file.stamp = stamp;
    try {
      this.#entries = parseTokensJson(readTokensText(file.path));
    } catch (err) {
      file.onError(err);
    }
  }
}

/** Parses a tokens file's text into entries; throws tokens_invalid naming the bad entry. */
function parseTokensJson(text: string): TokenEntry[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new CpError('tokens_invalid', `tokens file is not JSON: ${(err as Error).message}`);
  }
  const list = (doc as { tokens?: unknown } | null)?.tokens;
  if (!Array.isArray(list)) throw new CpError('tokens_invalid', 'tokens file needs a "tokens" array');
  const entries = list.map((raw, i) => parseEntry(raw, i));
  const names = new Set<string>();
  for (const [i, e] of entries.entries()) {
    if (names.has(e.principal.name)) throw new CpError('tokens_invalid', `tokens[${i}].name ${e.principal.name} is used twice`);
    names.add(e.principal.name);
  }
  return entries;
}

function readTokensText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new CpError('tokens_invalid', `cannot read tokens file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

/** Identity of the file's current content for change detection; '' when it cannot be stat'ed. */
function fileStamp(path: string): string {
  try {
    const st = statSync(path, { bigint: true });
    return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;
  } catch {
    return '';
  }
}

/**
 * A short tag of a presented token for logs, so repeated attempts with one token can be told
 * apart: 12 hex digits of a domain-separated sha256, neither a prefix of the token nor of the
 * hash stored in the tokens file.
 */
export function tokenFingerprint(token: string): string {
  return createHash('sha256').update('spooky-log-fingerprint\0').update(token).digest('hex').slice(0, 12);
}

/** The hex sha256 to put in a tokens file for `token`. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function parseEntry(raw: unknown, index: number): TokenEntry {
  const where = `tokens[${index}]`;
  if (typeof raw !== 'object' || raw === null) throw new CpError('tokens_invalid', `${where} must be an object`);
  const { name, sha256, permissions, scopes, expiresAt } = raw as Record<string, unknown>;
  if (typeof name !== 'string' || name === '') throw new CpError('tokens_invalid', `${where}.name must be a non-empty string`);
  if (typeof sha256 !== 'string' || !HEX_SHA256.test(sha256.toLowerCase())) {
    throw new CpError('tokens_invalid', `${where}.sha256 must be 64 hex digits`);
  }
  if (!Array.isArray(permissions) || !permissions.every((p) => (PERMISSIONS as readonly unknown[]).includes(p))) {
    throw new CpError('tokens_invalid', `${where}.permissions must list only: ${PERMISSIONS.join(', ')}`);
  }
  if (!Array.isArray(scopes) || !scopes.every((s) => typeof s === 'string' && SCOPE_PATTERN_SYNTAX.test(s))) {
    throw new CpError('tokens_invalid', `${where}.scopes must be an array of scope names or patterns (prod-*, *)`);
  }
  let expiresAtMs: number | null = null;
  if (expiresAt !== undefined && expiresAt !== null) {
    expiresAtMs = typeof expiresAt === 'string' ? Date.parse(expiresAt) : Number.NaN;
    if (Number.isNaN(expiresAtMs)) throw new CpError('tokens_invalid', `${where}.expiresAt must be an ISO 8601 date-time`);
  }
  return {
    hash: Buffer.from(sha256.toLowerCase(), 'hex'),
    principal: {
      name,
      permissions: new Set(permissions as Permission[]),
      scopes: new Set(scopes as string[]),
      expiresAt: expiresAtMs === null ? null : new Date(expiresAtMs).toISOString(),
    },
    expiresAtMs,
  };
}
