/**
 * RolloutRepo over better-sqlite3 (migration 0003). The rollout row keeps the state without its
 * log (the log lives in rollout_decisions, one row per line, append-only), so a save writes the
 * new lines only and `get` joins them back into exactly the state that was saved. Every write is
 * an IMMEDIATE transaction (nested ones become savepoints of the caller's), so a crash leaves
 * either the old state, lines and outbox or the new ones — never a part.
 */
import type Database from 'better-sqlite3';
import type { RolloutPolicy } from '../rollout/rollout-policy.ts';
import {
  type FreezeState,
  LiveRolloutConflict,
  type NewRollout,
  type PendingEffect,
  type PolicyMeta,
  PolicyVersionConflict,
  RolloutFinished,
  RolloutLogMismatch,
  RolloutNotFound,
  type RolloutRepo,
  type RolloutSummary,
  type StoredPolicy,
  type StoredRollout,
} from '../rollout/rollout-ports.ts';
import type { Decision, RolloutEffect, RolloutState, RolloutStatus } from '../rollout/rollout-state.ts';

interface PolicyRow {
  scope: string;
  version: number;
  document: string;
  author: string;
  reason: string;
  created_at: string;
}

interface RolloutRow {
  id: string;
  scope: string;
  target_seq: number;
  lkg_seq: number;
  policy_version: number;
  status: RolloutStatus;
  state?: string;
  created_at: string;
  updated_at: string;
}

interface FreezeRow {
  scope: string;
  rollback_streak: number;
  frozen: number;
  frozen_at: string | null;
  reason: string | null;
}

const LIVE = "status IN ('running', 'paused')";
const SUMMARY = 'id, scope, target_seq, lkg_seq, policy_version, status, created_at, updated_at';
const DEFAULT_LIST_LIMIT = 50;

export class SqliteRolloutRepo implements RolloutRepo {
  readonly #db: Database.Database;
  readonly #now: () => Date;
  #prepared: ReturnType<typeof prepare> | null = null;

  constructor(db: Database.Database, now: () => Date = () => new Date()) {
    this.#db = db;
    this.#now = now;
  }

  /**
   * Prepared on first use, not at construction: a damaged file is opened without migrating
   * (open-store.ts), and its older schema may lack these tables; opening must still succeed.
   */
  get #stmts(): ReturnType<typeof prepare> {
    this.#prepared ??= prepare(this.#db);
    return this.#prepared;
  }

  transaction<T>(fn: () => T): T {
    return this.#db.transaction(fn).immediate();
  }

  putPolicy(scope: string, policy: RolloutPolicy, meta: PolicyMeta, expectedVersion?: number): StoredPolicy {
    return this.transaction(() => {
      const current = this.currentPolicy(scope)?.version ?? 0;
      if (expectedVersion !== undefined && expectedVersion !== current) {
        throw new PolicyVersionConflict(scope, expectedVersion, current);
      }
      const stored: StoredPolicy = {
        scope,
        version: current + 1,
        policy,
        author: meta.author,
        reason: meta.reason,
        createdAt: meta.at,
      };
      this.#stmts.insertPolicy.run({
        scope,
        version: stored.version,
        document: JSON.stringify(policy),
        author: meta.author,
        reason: meta.reason,
        createdAt: meta.at,
      });
      return stored;
    });
  }

  currentPolicy(scope: string): StoredPolicy | null {
    const row = this.#stmts.currentPolicy.get(scope) as PolicyRow | undefined;
    if (!row) return null;
    return {
      scope: row.scope,
      version: row.version,
      policy: JSON.parse(row.document) as RolloutPolicy,
      author: row.author,
      reason: row.reason,
      createdAt: row.created_at,
    };
  }

  create(rollout: NewRollout): void {
    const { state } = rollout;
    this.transaction(() => {
      if (isLive(state.status)) {
        const live = this.#stmts.live.get(state.scope) as RolloutRow | undefined;
        if (live) throw new LiveRolloutConflict(state.scope, live.id);
      }
      try {
        this.#stmts.insertRollout.run({
          id: state.id,
          scope: state.scope,
          targetSeq: state.targetSeq,
          lkgSeq: state.lkgSeq,
          policyVersion: rollout.policyVersion,
          status: state.status,
          state: stateJson(state),
          at: this.#now().toISOString(),
        });
      } catch (err) {
        // The index is the guarantee (another connection may have inserted since the read above).
        if (isLiveIndexViolation(err)) throw new LiveRolloutConflict(state.scope, null);
        throw err;
      }
      this.#appendLines(state.id, 0, state.log);
      this.#appendEffects(state.id, rollout.effects);
    });
  }

  save(id: string, state: RolloutState, newLines: readonly Decision[], effects: readonly RolloutEffect[]): void {
    this.transaction(() => {
      const row = this.#stmts.get.get(id) as RolloutRow | undefined;
      if (!row) throw new RolloutNotFound(id);
      if (!isLive(row.status)) throw new RolloutFinished(id);
      if (state.id !== id) throw new RolloutLogMismatch(id, `the state is of rollout ${state.id}`);
      const stored = (this.#stmts.lineCount.get(id) as { n: number }).n;
      if (state.log.length !== stored + newLines.length) {
        throw new RolloutLogMismatch(id, `${stored} lines stored + ${newLines.length} new ≠ ${state.log.length} in the state`);
      }
      if (JSON.stringify(state.log.slice(stored)) !== JSON.stringify(newLines)) {
        throw new RolloutLogMismatch(id, 'the new lines are not the end of the state log');
      }
      this.#stmts.updateRollout.run({ id, status: state.status, state: stateJson(state), at: this.#now().toISOString() });
      this.#appendLines(id, stored, newLines);
      this.#appendEffects(id, effects);
    });
  }

  get(id: string): StoredRollout | null {
    const row = this.#stmts.get.get(id) as RolloutRow | undefined;
    return row ? this.#full(row) : null;
  }

  list(scope: string, limit = DEFAULT_LIST_LIMIT): RolloutSummary[] {
    return (this.#stmts.list.all(scope, limit) as RolloutRow[]).map(toSummary);
  }

  live(scope: string): StoredRollout | null {
    const row = this.#stmts.live.get(scope) as RolloutRow | undefined;
    return row ? this.#full(row) : null;
  }

  allLive(): StoredRollout[] {
    return (this.#stmts.allLive.all() as RolloutRow[]).map((row) => this.#full(row));
  }

  pendingEffects(): PendingEffect[] {
    const rows = this.#stmts.pending.all() as { rollout_id: string; n: number; effect: string }[];
    return rows.map((r) => ({ rolloutId: r.rollout_id, n: r.n, effect: JSON.parse(r.effect) as RolloutEffect }));
  }

  markDone(rolloutId: string, n: number): boolean {
    return this.#stmts.markDone.run(rolloutId, n).changes > 0;
  }

  freezeState(scope: string): FreezeState {
    const row = this.#stmts.getFreeze.get(scope) as FreezeRow | undefined;
    if (!row) return { scope, rollbackStreak: 0, frozen: false, frozenAt: null, reason: null };
    return {
      scope,
      rollbackStreak: row.rollback_streak,
      frozen: row.frozen === 1,
      frozenAt: row.frozen_at,
      reason: row.reason,
    };
  }

  setRollbackStreak(scope: string, count: number): void {
    if (!Number.isInteger(count) || count < 0) throw new RangeError(`rollback streak must be a whole number ≥ 0, not ${count}`);
    this.#stmts.setStreak.run(scope, count);
  }

  freeze(scope: string, reason: string, at: string): void {
    this.#stmts.freeze.run(scope, at, reason);
  }

  unfreeze(scope: string): void {
    this.#stmts.unfreeze.run(scope);
  }

  #appendLines(id: string, from: number, lines: readonly Decision[]): void {
    lines.forEach((line, i) => {
      this.#stmts.insertLine.run(id, from + i, JSON.stringify(line));
    });
  }

  #appendEffects(id: string, effects: readonly RolloutEffect[]): void {
    if (effects.length === 0) return;
    const first = (this.#stmts.nextEffect.get(id) as { n: number }).n;
    effects.forEach((effect, i) => {
      this.#stmts.insertEffect.run(id, first + i, JSON.stringify(effect));
    });
  }

  #full(row: RolloutRow): StoredRollout {
    const log = (this.#stmts.lines.all(row.id) as { line: string }[]).map((r) => JSON.parse(r.line) as Decision);
    const rest = JSON.parse(row.state ?? '{}') as Omit<RolloutState, 'log'>;
    return { ...toSummary(row), state: { ...rest, log } };
  }
}

function isLive(status: RolloutStatus): boolean {
  return status === 'running' || status === 'paused';
}

/** The state as stored in its row: everything but the log (which has its own table). */
function stateJson(state: RolloutState): string {
  const { log: _log, ...rest } = state;
  return JSON.stringify(rest);
}

function isLiveIndexViolation(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  return e.code === 'SQLITE_CONSTRAINT_UNIQUE' && typeof e.message === 'string' && e.message.includes('rollouts.scope');
}

function toSummary(row: RolloutRow): RolloutSummary {
  return {
    id: row.id,
    scope: row.scope,
    targetSeq: row.target_seq,
    lkgSeq: row.lkg_seq,
    policyVersion: row.policy_version,
    status: row.status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Every statement of the repo, prepared once per connection. */
function prepare(db: Database.Database) {
  return {
    currentPolicy: db.prepare('SELECT * FROM rollout_policies WHERE scope = ? ORDER BY version DESC LIMIT 1'),
    insertPolicy: db.prepare(
      `INSERT INTO rollout_policies (scope, version, document, author, reason, created_at)
       VALUES (@scope, @version, @document, @author, @reason, @createdAt)`,
    ),
    insertRollout: db.prepare(
      `INSERT INTO rollouts (id, scope, target_seq, lkg_seq, policy_version, status, state, created_at, updated_at)
       VALUES (@id, @scope, @targetSeq, @lkgSeq, @policyVersion, @status, @state, @at, @at)`,
    ),
    updateRollout: db.prepare('UPDATE rollouts SET status = @status, state = @state, updated_at = @at WHERE id = @id'),
    get: db.prepare('SELECT * FROM rollouts WHERE id = ?'),
    live: db.prepare(`SELECT * FROM rollouts WHERE scope = ? AND ${LIVE}`),
    allLive: db.prepare(`SELECT * FROM rollouts WHERE ${LIVE} ORDER BY ord`),
    list: db.prepare(`SELECT ${SUMMARY} FROM rollouts WHERE scope = ? ORDER BY ord DESC LIMIT ?`),
    lines: db.prepare('SELECT line FROM rollout_decisions WHERE rollout_id = ? ORDER BY n'),
    lineCount: db.prepare('SELECT count(*) AS n FROM rollout_decisions WHERE rollout_id = ?'),
    insertLine: db.prepare('INSERT INTO rollout_decisions (rollout_id, n, line) VALUES (?, ?, ?)'),
    nextEffect: db.prepare('SELECT coalesce(max(n) + 1, 0) AS n FROM rollout_effects WHERE rollout_id = ?'),
    insertEffect: db.prepare('INSERT INTO rollout_effects (rollout_id, n, effect) VALUES (?, ?, ?)'),
    pending: db.prepare('SELECT rollout_id, n, effect FROM rollout_effects WHERE done = 0 ORDER BY ord'),
    markDone: db.prepare('UPDATE rollout_effects SET done = 1 WHERE rollout_id = ? AND n = ? AND done = 0'),
    getFreeze: db.prepare('SELECT * FROM scope_freeze WHERE scope = ?'),
    setStreak: db.prepare(
      `INSERT INTO scope_freeze (scope, rollback_streak, frozen) VALUES (?, ?, 0)
       ON CONFLICT (scope) DO UPDATE SET rollback_streak = excluded.rollback_streak`,
    ),
    freeze: db.prepare(
      `INSERT INTO scope_freeze (scope, rollback_streak, frozen, frozen_at, reason) VALUES (?, 0, 1, ?, ?)
       ON CONFLICT (scope) DO UPDATE SET frozen = 1,
         frozen_at = coalesce(frozen_at, excluded.frozen_at), reason = coalesce(reason, excluded.reason)`,
    ),
    unfreeze: db.prepare(
      `INSERT INTO scope_freeze (scope, rollback_streak, frozen) VALUES (?, 0, 0)
       ON CONFLICT (scope) DO UPDATE SET rollback_streak = 0, frozen = 0, frozen_at = NULL, reason = NULL`,
    ),
  };
}
