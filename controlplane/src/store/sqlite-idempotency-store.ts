/** IdempotencyStore over better-sqlite3 (table idempotency_keys, migration 2). */
import type Database from 'better-sqlite3';
import type { IdempotencyRecord, IdempotencyRequest, IdempotencyStore } from '../api/idempotency.ts';

interface Row {
  principal: string;
  key: string;
  method: string;
  path: string;
  body_sha256: string;
  status: number | null;
  headers: string | null;
  body: string | null;
  created_at: string;
}

export class SqliteIdempotencyStore implements IdempotencyStore {
  readonly #db: Database.Database;
  readonly #stmts;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#stmts = {
      expire: db.prepare('DELETE FROM idempotency_keys WHERE created_at < ?'),
      get: db.prepare('SELECT * FROM idempotency_keys WHERE principal = ? AND key = ?'),
      dropStale: db.prepare('DELETE FROM idempotency_keys WHERE principal = ? AND key = ? AND status IS NULL AND created_at < ?'),
      insert: db.prepare(
        `INSERT INTO idempotency_keys (principal, key, method, path, body_sha256, status, headers, body, created_at)
         VALUES (@principal, @key, @method, @path, @bodySha256, NULL, NULL, NULL, @createdAt)`,
      ),
      complete: db.prepare(
        'UPDATE idempotency_keys SET status = @status, headers = @headers, body = @body WHERE principal = @principal AND key = @key',
      ),
      release: db.prepare('DELETE FROM idempotency_keys WHERE principal = ? AND key = ? AND status IS NULL'),
    };
  }

  begin(request: IdempotencyRequest, expireBefore: string, staleBefore: string): IdempotencyRecord | null {
    return this.#db
      .transaction(() => {
        this.#stmts.expire.run(expireBefore);
        this.#stmts.dropStale.run(request.principal, request.key, staleBefore);
        const row = this.#stmts.get.get(request.principal, request.key) as Row | undefined;
        if (row) return toRecord(row);
        this.#stmts.insert.run({ ...request });
        return null;
      })
      .immediate();
  }

  complete(principal: string, key: string, response: { status: number; headers: Record<string, string>; body: string }): void {
    this.#stmts.complete.run({ principal, key, status: response.status, headers: JSON.stringify(response.headers), body: response.body });
  }

  release(principal: string, key: string): void {
    this.#stmts.release.run(principal, key);
  }
}

function toRecord(row: Row): IdempotencyRecord {
  return {
    principal: row.principal,
    key: row.key,
    method: row.method,
    path: row.path,
    bodySha256: row.body_sha256,
    createdAt: row.created_at,
    status: row.status,
    headers: row.headers === null ? null : (JSON.parse(row.headers) as Record<string, string>),
    body: row.body,
  };
}
