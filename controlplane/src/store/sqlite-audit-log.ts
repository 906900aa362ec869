/**
 * Append-only audit trail, hash-chained: hash = sha256(prev_hash + canonical row), where the
 * canonical row is canonicalJson({id, at, actor, action, scope, detail}) and the first entry's
 * prev_hash is 64 zeros. A verifier recomputes the chain from id 1; any edit breaks it.
 * `append` must run inside the caller's write transaction (it reads the chain head).
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '@spooky/config';
import type Database from 'better-sqlite3';
import type { AuditEntryInput, AuditLog } from '../generations/ports.ts';

export const AUDIT_GENESIS_HASH = '0'.repeat(64);

export interface AuditRow {
  readonly id: number;
  readonly at: string;
  readonly actor: string;
  readonly action: string;
  readonly scope: string | null;
  readonly detail: string;
  readonly prev_hash: string;
  readonly hash: string;
}

/** The hash of one audit row given its predecessor's hash. */
export function auditHash(prevHash: string, row: Omit<AuditRow, 'prev_hash' | 'hash'>): string {
  const canonical = canonicalJson({
    id: row.id,
    at: row.at,
    actor: row.actor,
    action: row.action,
    scope: row.scope,
    detail: JSON.parse(row.detail) as unknown,
  });
  return createHash('sha256').update(prevHash + canonical).digest('hex');
}

export class SqliteAuditLog implements AuditLog {
  readonly #head: Database.Statement;
  readonly #insert: Database.Statement;
  readonly #all: Database.Statement;

  constructor(db: Database.Database) {
    this.#head = db.prepare('SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1');
    this.#insert = db.prepare(
      'INSERT INTO audit (id, at, actor, action, scope, detail, prev_hash, hash) VALUES (@id, @at, @actor, @action, @scope, @detail, @prev_hash, @hash)',
    );
    this.#all = db.prepare('SELECT * FROM audit ORDER BY id');
  }

  append(entry: AuditEntryInput): void {
    const head = this.#head.get() as { id: number; hash: string } | undefined;
    const row = {
      id: (head?.id ?? 0) + 1,
      at: entry.at,
      actor: entry.actor,
      action: entry.action,
      scope: entry.scope,
      detail: canonicalJson(entry.detail),
    };
    const prevHash = head?.hash ?? AUDIT_GENESIS_HASH;
    this.#insert.run({ ...row, prev_hash: prevHash, hash: auditHash(prevHash, row) });
  }

  /** Every row, oldest first (for verification and the later GET /v1/audit). */
  all(): AuditRow[] {
    return this.#all.all() as AuditRow[];
  }

  /** Recomputes the chain; returns the id of the first broken row, or null when intact. */
  verify(): number | null {
    let prev = AUDIT_GENESIS_HASH;
    for (const row of this.all()) {
      if (row.prev_hash !== prev || auditHash(prev, row) !== row.hash) return row.id;
      prev = row.hash;
    }
    return null;
  }
}
