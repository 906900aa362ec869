/**
 * GenerationRepo over better-sqlite3. Statements are prepared once. `transaction` is an
 * IMMEDIATE transaction (the write lock is taken at BEGIN), so compare-and-swap reads and the
 * writes that follow them can never interleave with another writer, even across processes.
 */
import type Database from 'better-sqlite3';
import type {
  ActivationRecord,
  ActivePointer,
  GenerationMeta,
  GenerationRecord,
  GenerationRepo,
} from '../generations/ports.ts';

interface GenerationRow {
  scope: string;
  seq: number;
  digest: string;
  payload?: string;
  size_bytes: number;
  author: string;
  reason: string;
  created_at: string;
  parent_seq: number | null;
  failed_reason: string | null;
}

interface ActiveRow {
  scope: string;
  seq: number;
  digest: string;
  version: number;
  activated_at: string;
  actor: string;
  reason: string;
}

const META_COLUMNS =
  'g.scope, g.seq, g.digest, g.size_bytes, g.author, g.reason, g.created_at, g.parent_seq, f.reason AS failed_reason';
const META_FROM = 'generations g LEFT JOIN generation_failures f ON f.scope = g.scope AND f.seq = g.seq';

export class SqliteGenerationRepo implements GenerationRepo {
  readonly #db: Database.Database;
  readonly #stmts;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#stmts = {
      scopes: db.prepare('SELECT scope FROM scopes ORDER BY scope'),
      upsertScope: db.prepare(
        'INSERT INTO scopes (scope, last_seq) VALUES (?, 1) ON CONFLICT (scope) DO UPDATE SET last_seq = last_seq + 1 RETURNING last_seq',
      ),
      insert: db.prepare(
        `INSERT INTO generations (scope, seq, digest, payload, size_bytes, author, reason, created_at, parent_seq)
         VALUES (@scope, @seq, @digest, @payload, @sizeBytes, @author, @reason, @createdAt, @parentSeq)`,
      ),
      byDigest: db.prepare(`SELECT ${META_COLUMNS} FROM ${META_FROM} WHERE g.scope = ? AND g.digest = ? ORDER BY g.seq LIMIT 1`),
      get: db.prepare(`SELECT ${META_COLUMNS}, g.payload FROM ${META_FROM} WHERE g.scope = ? AND g.seq = ?`),
      list: db.prepare(
        `SELECT ${META_COLUMNS} FROM ${META_FROM} WHERE g.scope = ? AND g.seq < ? ORDER BY g.seq DESC LIMIT ?`,
      ),
      getActive: db.prepare('SELECT * FROM active WHERE scope = ?'),
      setActive: db.prepare(
        `INSERT INTO active (scope, seq, digest, version, activated_at, actor, reason)
         VALUES (@scope, @seq, @digest, @version, @activatedAt, @actor, @reason)
         ON CONFLICT (scope) DO UPDATE SET seq = excluded.seq, digest = excluded.digest, version = excluded.version,
           activated_at = excluded.activated_at, actor = excluded.actor, reason = excluded.reason`,
      ),
      appendActivation: db.prepare(
        `INSERT INTO activations (scope, seq, version, kind, actor, reason, at)
         VALUES (@scope, @seq, @version, @kind, @actor, @reason, @at)`,
      ),
      history: db.prepare('SELECT scope, seq, version, kind, actor, reason, at FROM activations WHERE scope = ? ORDER BY version'),
    };
  }

  transaction<T>(fn: () => T): T {
    return this.#db.transaction(fn).immediate();
  }

  listScopes(): string[] {
    return (this.#stmts.scopes.all() as { scope: string }[]).map((r) => r.scope);
  }

  reserveSeq(scope: string): number {
    return (this.#stmts.upsertScope.get(scope) as { last_seq: number }).last_seq;
  }

  insertGeneration(record: GenerationRecord): void {
    const { failedReason: _failed, ...row } = record;
    this.#stmts.insert.run(row);
  }

  findByDigest(scope: string, digest: string): GenerationMeta | null {
    const row = this.#stmts.byDigest.get(scope, digest) as GenerationRow | undefined;
    return row ? toMeta(row) : null;
  }

  getGeneration(scope: string, seq: number): GenerationRecord | null {
    const row = this.#stmts.get.get(scope, seq) as GenerationRow | undefined;
    return row ? { ...toMeta(row), payload: row.payload ?? '' } : null;
  }

  listGenerations(scope: string, limit: number, before: number | null): GenerationMeta[] {
    const rows = this.#stmts.list.all(scope, before ?? Number.MAX_SAFE_INTEGER, limit) as GenerationRow[];
    return rows.map(toMeta);
  }

  getActive(scope: string): ActivePointer | null {
    const row = this.#stmts.getActive.get(scope) as ActiveRow | undefined;
    if (!row) return null;
    return {
      scope: row.scope,
      seq: row.seq,
      digest: row.digest,
      version: row.version,
      activatedAt: row.activated_at,
      actor: row.actor,
      reason: row.reason,
    };
  }

  setActive(pointer: ActivePointer): void {
    this.#stmts.setActive.run({ ...pointer });
  }

  appendActivation(record: ActivationRecord): void {
    this.#stmts.appendActivation.run({ ...record });
  }

  activationHistory(scope: string): ActivationRecord[] {
    return this.#stmts.history.all(scope) as ActivationRecord[];
  }
}

function toMeta(row: GenerationRow): GenerationMeta {
  return {
    scope: row.scope,
    seq: row.seq,
    digest: row.digest,
    sizeBytes: row.size_bytes,
    author: row.author,
    reason: row.reason,
    createdAt: row.created_at,
    parentSeq: row.parent_seq,
    failedReason: row.failed_reason,
  };
}
