/**
 * Opens (creating if needed) the control plane's SQLite database: WAL journal, foreign keys
 * on, a busy timeout so a second reader/writer waits instead of failing, then runs pending
 * migrations. One process is the writer; better-sqlite3 is synchronous, so every use case
 * transaction runs to completion without interleaving inside this process. A file that fails
 * its integrity check (store-integrity.ts) is opened without migrating (nothing is written to
 * it) and reports health() not ok.
 */
import Database from 'better-sqlite3';
import { migrate } from './migrate.ts';
import { MIGRATIONS } from './migrations/index.ts';
import { SqliteAuditLog } from './sqlite-audit-log.ts';
import { SqliteEventLog } from './sqlite-event-log.ts';
import { SqliteGenerationRepo } from './sqlite-generation-repo.ts';
import { SqliteHealthWindows } from './sqlite-health-windows.ts';
import { SqliteIdempotencyStore } from './sqlite-idempotency-store.ts';
import { SqliteLifecycleRepo } from './sqlite-lifecycle-repo.ts';
import { SqliteNodeHistory } from './sqlite-node-history.ts';
import { SqliteNodeRegistry } from './sqlite-node-registry.ts';
import { SqliteRolloutRepo } from './sqlite-rollout-repo.ts';
import { quickCheck, type StoreHealth } from './store-integrity.ts';

export interface SqliteStore {
  readonly db: Database.Database;
  readonly generations: SqliteGenerationRepo;
  readonly audit: SqliteAuditLog;
  readonly nodes: SqliteNodeRegistry;
  readonly lifecycle: SqliteLifecycleRepo;
  readonly nodeHistory: SqliteNodeHistory;
  readonly events: SqliteEventLog;
  readonly idempotency: SqliteIdempotencyStore;
  /** Rollout policies, rollouts, their decision log and outbox, the freeze state (migration 3). */
  readonly rollouts: SqliteRolloutRepo;
  /** Per-generation health windows from Reports, for the rollout gates (migration 4). */
  readonly healthWindows: SqliteHealthWindows;
  /** Migration versions applied by this open (empty when the schema was already current). */
  readonly appliedMigrations: readonly number[];
  /** True while the database is open, migrated and intact (readiness). */
  isReady(): boolean;
  /** Intact, or why not (quick_check at open, or corruption reported since). */
  health(): StoreHealth;
  /** Records that a statement reported corruption; true the first time (log it then). */
  markCorrupt(reason: string): boolean;
  close(): void;
}

export interface OpenStoreOptions {
  readonly busyTimeoutMs?: number;
  readonly now?: () => Date;
  /** Events kept for GET /v1/events resumption (default 10 000). */
  readonly eventRetention?: number;
}

export function openStore(path: string, options: OpenStoreOptions = {}): SqliteStore {
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
    let health = quickCheck(db);
    const now = options.now ?? (() => new Date());
    const appliedMigrations = health.ok ? migrate(db, MIGRATIONS, now) : [];
    return {
      db,
      generations: new SqliteGenerationRepo(db),
      audit: new SqliteAuditLog(db),
      nodes: new SqliteNodeRegistry(db),
      lifecycle: new SqliteLifecycleRepo(db),
      nodeHistory: new SqliteNodeHistory(db),
      events: new SqliteEventLog(db, options.eventRetention === undefined ? {} : { retain: options.eventRetention }),
      idempotency: new SqliteIdempotencyStore(db),
      rollouts: new SqliteRolloutRepo(db, now),
      healthWindows: new SqliteHealthWindows(db),
      appliedMigrations,
      isReady: () => db.open && health.ok,
      health: () => (db.open ? health : { ok: false, reason: 'store is closed' }),
      markCorrupt: (reason) => {
        if (!health.ok) return false;
        health = { ok: false, reason };
        return true;
      },
      close: () => {
        if (db.open) db.close();
      },
    };
  } catch (err) {
    db.close();
    throw err;
  }
}
