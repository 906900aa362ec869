/**
 * Managing the tokens file (used by `spookyctl token …` and operators' scripts): create a
 * token (the secret is returned once; only its sha256 is written), revoke one by name, list
 * them without secrets. Every write replaces the file atomically (temp file in the same
 * directory, fsync, rename; mode 0600), and the resulting document is validated exactly as
 * the control plane will load it, so a running control plane (which reloads the file when it
 * changes) never sees a half-written or invalid file. Not safe against two writers at the same
 * instant (read-modify-write): run one token command at a time.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CpError } from '../errors.ts';
import { PERMISSIONS, type Permission } from './permissions.ts';
import { hashToken, SCOPE_PATTERN_SYNTAX, TokenAuthenticator } from './token-authenticator.ts';

export interface NewTokenSpec {
  /** Recorded as the actor of everything the token does; unique in the file. */
  readonly name: string;
  readonly permissions: readonly Permission[];
  /** Scope names or patterns (`prod-*`, `*`). */
  readonly scopes: readonly string[];
  /** Optional expiry (ISO 8601 string or Date); absent or null = never. */
  readonly expiresAt?: string | Date | null;
}

export interface TokenInfo {
  readonly name: string;
  readonly permissions: readonly string[];
  readonly scopes: readonly string[];
  readonly expiresAt: string | null;
  /** When createToken wrote it; null for entries written by hand or by older builds. */
  readonly createdAt: string | null;
}

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}$/;

/**
 * Adds a token to `file` (created when absent) and returns the secret, `spk_` + 43 base64url
 * characters (256 random bits). Throws token_exists when the name is taken, invalid_request
 * for a bad name, permission, scope pattern or date.
 */
export function createToken(file: string, spec: NewTokenSpec): string {
  if (!NAME_PATTERN.test(spec.name)) throw new CpError('invalid_request', 'token name must match [A-Za-z0-9][A-Za-z0-9._:@-]{0,63}');
  const unknown = spec.permissions.filter((p) => !(PERMISSIONS as readonly string[]).includes(p));
  if (unknown.length > 0 || spec.permissions.length === 0) {
    throw new CpError('invalid_request', `permissions must be a non-empty list of: ${PERMISSIONS.join(', ')}`);
  }
  if (spec.scopes.length === 0 || !spec.scopes.every((s) => SCOPE_PATTERN_SYNTAX.test(s))) {
    throw new CpError('invalid_request', 'scopes must be a non-empty list of scope names or patterns (prod-*, *)');
  }
  const expiresAt = isoOrNull(spec.expiresAt);
  const doc = readDoc(file);
  if (doc.tokens.some((t) => (t as { name?: unknown }).name === spec.name)) {
    throw new CpError('token_exists', `a token named ${spec.name} exists; revoke it first`);
  }
  const token = `spk_${randomBytes(32).toString('base64url')}`;
  doc.tokens.push({
    name: spec.name,
    sha256: hashToken(token),
    permissions: [...spec.permissions],
    scopes: [...spec.scopes],
    ...(expiresAt === null ? {} : { expiresAt }),
    createdAt: new Date().toISOString(),
  });
  writeDoc(file, doc);
  return token;
}

/** Removes the token named `name`; returns false when there was none (the file is untouched). */
export function revokeToken(file: string, name: string): boolean {
  const doc = readDoc(file);
  const kept = doc.tokens.filter((t) => (t as { name?: unknown }).name !== name);
  if (kept.length === doc.tokens.length) return false;
  writeDoc(file, { ...doc, tokens: kept });
  return true;
}

/** The tokens of `file` without their hashes (nor anything but the fields of TokenInfo); [] when the file does not exist. */
export function listTokens(file: string): TokenInfo[] {
  return readDoc(file).tokens.map((raw) => {
    const t = raw as Record<string, unknown>;
    return {
      name: String(t['name']),
      permissions: Array.isArray(t['permissions']) ? (t['permissions'] as string[]) : [],
      scopes: Array.isArray(t['scopes']) ? (t['scopes'] as string[]) : [],
      expiresAt: typeof t['expiresAt'] === 'string' ? t['expiresAt'] : null,
      createdAt: typeof t['createdAt'] === 'string' ? t['createdAt'] : null,
    };
  });
}

interface TokensDoc {
  [key: string]: unknown;
  tokens: unknown[];
}

function readDoc(file: string): TokensDoc {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { tokens: [] };
    throw new CpError('tokens_invalid', `cannot read tokens file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  TokenAuthenticator.fromJson(text); // same validation as the control plane
  return JSON.parse(text) as TokensDoc;
}

function writeDoc(file: string, doc: TokensDoc): void {
  const text = `${JSON.stringify(doc, null, 2)}\n`;
  TokenAuthenticator.fromJson(text);
  const temp = join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(temp, 'wx', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(temp, file);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
  syncDir(dirname(file));
}

/** Makes the rename durable; best effort (not every platform can fsync a directory). */
function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // ignored: durability of the rename is a bonus, atomicity is not affected
  }
}

function isoOrNull(value: string | Date | null | undefined): string | null {
  if (value === undefined || value === null) return null;
  const ms = value instanceof Date ? value.getTime() : Date.parse(value);
  if (Number.isNaN(ms)) throw new CpError('invalid_request', 'expiresAt must be an ISO 8601 date-time');
  return new Date(ms).toISOString();
}
