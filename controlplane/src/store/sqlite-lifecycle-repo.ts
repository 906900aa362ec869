/**
 * LifecycleRepo over better-sqlite3: the LKG pointer per scope and the failed-generation marks.
 * Writes are meant to run inside GenerationRepo.transaction (same connection).
 */
import type Database from 'better-sqlite3';
import type { GenerationFailure, LifecycleRepo, LkgRecord } from '../generations/lifecycle-ports.ts';

interface FailureRow {
  scope: string;
  seq: number;
  reason: string;
  node_id: string;
  at: string;
}

export class SqliteLifecycleRepo implements LifecycleRepo {
  readonly #stmts;

  constructor(db: Database.Database) {
    this.#stmts = {
      getLkg: db.prepare('SELECT scope, seq, digest, at FROM lkg WHERE scope = ?'),
      setLkg: db.prepare(
        `INSERT INTO lkg (scope, seq, digest, at) VALUES (@scope, @seq, @digest, @at)
         ON CONFLICT (scope) DO UPDATE SET seq = excluded.seq, digest = excluded.digest, at = excluded.at`,
      ),
      getFailure: db.prepare('SELECT * FROM generation_failures WHERE scope = ? AND seq = ?'),
      markFailed: db.prepare(
        `INSERT INTO generation_failures (scope, seq, reason, node_id, at) VALUES (@scope, @seq, @reason, @nodeId, @at)
         ON CONFLICT (scope, seq) DO NOTHING`,
      ),
    };
  }

  getLkg(scope: string): LkgRecord | null {
    return (this.#stmts.getLkg.get(scope) as LkgRecord | undefined) ?? null;
  }

  setLkg(record: LkgRecord): void {
    this.#stmts.setLkg.run({ scope: record.scope, seq: record.seq, digest: record.digest, at: record.at });
  }

  getFailure(scope: string, seq: number): GenerationFailure | null {
    const row = this.#stmts.getFailure.get(scope, seq) as FailureRow | undefined;
    return row ? { scope: row.scope, seq: row.seq, reason: row.reason, nodeId: row.node_id, at: row.at } : null;
  }

  markFailed(failure: GenerationFailure): boolean {
    return this.#stmts.markFailed.run({ ...failure }).changes > 0;
  }
}
