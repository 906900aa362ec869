/**
 * Append-only audit trail, hash-chained: hash = sha256(prev_hash + canonical row), where the
 * canonical row is canonicalJson({id, at, actor, action, scope, detail}) and the first entry's
 * prev_hash is 64 zeros. A verifier recomputes the chain from id 1; any edit breaks it.
 * `append` must run inside the caller's write transaction (it reads the chain head).
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '@spooky/config';
import type Database from 'better-sqlite3';
import type { AuditCheck, AuditEntry, AuditEntryInput, AuditLog, AuditReader } from '../generations/ports.ts';

export const AUDIT_GENESIS_HASH = '0'.repeat(64);

export type AuditRow = AuditEntry;

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

export class SqliteAuditLog implements AuditLog, AuditReader {
  readonly #head: Database.Statement;
  readonly #insert: Database.Statement;
  readonly #all: Database.Statement;
  readonly #page: Database.Statement;
  readonly #pageOfScope: Database.Statement;

  constructor(db: Database.Database) {
    this.#head = db.prepare('SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1');
    this.#insert = db.prepare(
      'INSERT INTO audit (id, at, actor, action, scope, detail, prev_hash, hash) VALUES (@id, @at, @actor, @action, @scope, @detail, @prev_hash, @hash)',
    );
    this.#all = db.prepare('SELECT * FROM audit ORDER BY id');
    this.#page = db.prepare('SELECT * FROM audit WHERE id > ? ORDER BY id LIMIT ?');
    this.#pageOfScope = db.prepare('SELECT * FROM audit WHERE id > ? AND scope = ? ORDER BY id LIMIT ?');
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

  /** Rows with id > `since`, oldest first, of one scope or all, at most `limit`. */
  page(since: number, scope: string | null, limit: number): AuditRow[] {
    return (scope === null ? this.#page.all(since, limit) : this.#pageOfScope.all(since, scope, limit)) as AuditRow[];
  }

  /** Recomputes the chain; returns the id of the first broken row, or null when intact. */
  verify(): number | null {
    const result = this.check();
    return result.ok ? null : result.brokenAt;
  }

  /**
   * Recomputes the chain from the genesis hash, row by row (ids must run 1, 2, 3, …). A
   * deleted row, an edited row or a forged hash makes it fail at the first affected id.
   */
  check(): AuditCheck {
    let prev = AUDIT_GENESIS_HASH;
    let expectedId = 1;
    for (const row of this.#all.iterate() as IterableIterator<AuditRow>) {
      if (row.id !== expectedId) return { ok: false, brokenAt: row.id, reason: `entry ${expectedId} is missing` };
      if (row.prev_hash !== prev) return { ok: false, brokenAt: row.id, reason: 'prev_hash does not match the previous entry' };
      let computed: string;
      try {
        computed = auditHash(prev, row);
      } catch {
        return { ok: false, brokenAt: row.id, reason: 'detail is not valid JSON' };
      }
      if (computed !== row.hash) return { ok: false, brokenAt: row.id, reason: 'hash does not match the entry' };
      prev = row.hash;
      expectedId += 1;
    }
    return { ok: true, entries: expectedId - 1 };
  }
}
