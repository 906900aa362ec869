/**
 * Bearer-token authentication against a tokens file:
 *   {"tokens":[{"name":"demo","sha256":"<hex sha256 of the token>","permissions":["admin"],"scopes":["*"]}]}
 * Only hashes are stored. A presented token is hashed and compared with every entry in
 * constant time (no early exit), so timing reveals neither which entry nor how many bytes
 * matched. Tokens are never logged nor put in errors.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CpError } from '../errors.ts';
import { PERMISSIONS, type Permission, type Principal } from './permissions.ts';

interface TokenEntry {
  readonly hash: Buffer;
  readonly principal: Principal;
}

const HEX_SHA256 = /^[0-9a-f]{64}$/;

export class TokenAuthenticator {
  readonly #entries: readonly TokenEntry[];

  constructor(entries: readonly TokenEntry[]) {
    this.#entries = entries;
  }

  /** Parses the tokens file's JSON text; throws tokens_invalid naming the bad entry (never a secret). */
  static fromJson(text: string): TokenAuthenticator {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw new CpError('tokens_invalid', `tokens file is not JSON: ${(err as Error).message}`);
    }
    const list = (doc as { tokens?: unknown } | null)?.tokens;
    if (!Array.isArray(list)) throw new CpError('tokens_invalid', 'tokens file needs a "tokens" array');
    return new TokenAuthenticator(list.map((raw, i) => parseEntry(raw, i)));
  }

  static fromFile(path: string): TokenAuthenticator {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new CpError('tokens_invalid', `cannot read tokens file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    return TokenAuthenticator.fromJson(text);
  }

  /** The principal for an `Authorization` header value, or null (missing, malformed, unknown). */
  authenticate(authorization: string | undefined): Principal | null {
    if (!authorization) return null;
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization);
    if (!match?.[1]) return null;
    const presented = createHash('sha256').update(match[1]).digest();
    let found: Principal | null = null;
    for (const entry of this.#entries) {
      if (timingSafeEqual(presented, entry.hash) && found === null) found = entry.principal;
    }
    return found;
  }
}

/** The hex sha256 to put in a tokens file for `token`. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function parseEntry(raw: unknown, index: number): TokenEntry {
  const where = `tokens[${index}]`;
  if (typeof raw !== 'object' || raw === null) throw new CpError('tokens_invalid', `${where} must be an object`);
  const { name, sha256, permissions, scopes } = raw as Record<string, unknown>;
  if (typeof name !== 'string' || name === '') throw new CpError('tokens_invalid', `${where}.name must be a non-empty string`);
  if (typeof sha256 !== 'string' || !HEX_SHA256.test(sha256.toLowerCase())) {
    throw new CpError('tokens_invalid', `${where}.sha256 must be 64 hex digits`);
  }
  if (!Array.isArray(permissions) || !permissions.every((p) => (PERMISSIONS as readonly unknown[]).includes(p))) {
    throw new CpError('tokens_invalid', `${where}.permissions must list only: ${PERMISSIONS.join(', ')}`);
  }
  if (!Array.isArray(scopes) || !scopes.every((s) => typeof s === 'string')) {
    throw new CpError('tokens_invalid', `${where}.scopes must be an array of scope names or "*"`);
  }
  return {
    hash: Buffer.from(sha256.toLowerCase(), 'hex'),
    principal: { name, permissions: new Set(permissions as Permission[]), scopes: new Set(scopes as string[]) },
  };
}
