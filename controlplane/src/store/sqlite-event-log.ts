/**
 * The event log behind GET /v1/events: one row per event, ids from AUTOINCREMENT (never
 * reused), bounded to the newest `retain` events (older ones are pruned on append, so a cursor
 * older than the window is detectable). `append` runs inside the caller's transaction; readers
 * are poked on the next macrotask, i.e. after that synchronous transaction committed (or rolled
 * back: then they simply find nothing new).
 */
import { EventEmitter } from 'node:events';
import type Database from 'better-sqlite3';
import type { CpEvent, CpEventInput, CpEventType, EventLog } from '../generations/lifecycle-ports.ts';

export const DEFAULT_EVENT_RETENTION = 10_000;

interface EventRow {
  id: number;
  type: string;
  scope: string | null;
  data: string;
  at: string;
}

export class SqliteEventLog implements EventLog {
  readonly #stmts;
  readonly #retain: number;
  readonly #emitter = new EventEmitter();
  #pokeScheduled = false;

  constructor(db: Database.Database, options: { retain?: number } = {}) {
    this.#retain = options.retain ?? DEFAULT_EVENT_RETENTION;
    this.#emitter.setMaxListeners(0);
    this.#stmts = {
      insert: db.prepare('INSERT INTO events (type, scope, data, at) VALUES (@type, @scope, @data, @at)'),
      prune: db.prepare('DELETE FROM events WHERE id <= ?'),
      all: db.prepare('SELECT * FROM events WHERE id > ? ORDER BY id LIMIT ?'),
      byScope: db.prepare('SELECT * FROM events WHERE id > ? AND scope = ? ORDER BY id LIMIT ?'),
      oldest: db.prepare('SELECT min(id) AS id FROM events'),
      latest: db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'events'"),
    };
  }

  append(event: CpEventInput): void {
    const { lastInsertRowid } = this.#stmts.insert.run({
      type: event.type,
      scope: event.scope,
      data: JSON.stringify(event.data),
      at: event.at,
    });
    const id = Number(lastInsertRowid);
    if (id > this.#retain) this.#stmts.prune.run(id - this.#retain);
    this.#schedulePoke();
  }

  after(cursor: number, scope: string | null, limit: number): CpEvent[] {
    const rows = (scope === null ? this.#stmts.all.all(cursor, limit) : this.#stmts.byScope.all(cursor, scope, limit)) as EventRow[];
    return rows.map((r) => ({
      id: r.id,
      type: r.type as CpEventType,
      scope: r.scope,
      data: JSON.parse(r.data) as Record<string, unknown>,
      at: r.at,
    }));
  }

  window(): { oldest: number | null; latest: number } {
    const oldest = (this.#stmts.oldest.get() as { id: number | null }).id;
    const latest = (this.#stmts.latest.get() as { seq: number } | undefined)?.seq ?? 0;
    return { oldest, latest };
  }

  onAppended(listener: () => void): () => void {
    this.#emitter.on('appended', listener);
    return () => this.#emitter.off('appended', listener);
  }

  #schedulePoke(): void {
    if (this.#pokeScheduled) return;
    this.#pokeScheduled = true;
    setImmediate(() => {
      this.#pokeScheduled = false;
      this.#emitter.emit('appended');
    });
  }
}
