/**
 * Applies pending migrations at open, all in one immediate transaction: a crash mid-upgrade
 * leaves the previous schema intact. Idempotent: applied versions are recorded in
 * schema_migrations and skipped on the next open.
 */
import type Database from 'better-sqlite3';
import type { Migration } from './migrations/index.ts';

export function migrate(db: Database.Database, migrations: readonly Migration[], now: () => Date): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT`);
  const applied = new Set(
    (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version),
  );
  const pending = migrations.filter((m) => !applied.has(m.version)).sort((a, b) => a.version - b.version);
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  db.transaction(() => {
    for (const m of pending) {
      db.exec(m.sql);
      record.run(m.version, m.name, now().toISOString());
    }
  }).immediate();
  return pending.map((m) => m.version);
}
