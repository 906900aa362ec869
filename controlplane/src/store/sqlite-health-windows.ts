/**
 * The HealthSink distribution feeds with every Report's GenerationHealth windows, over
 * better-sqlite3 (migration 4), and the reader the rollout gates take their HealthWindows from.
 * A window is stored once (a re-sent window with the same node, generation and start replaces
 * nothing); each insert prunes that node's windows older than `maxAgeMs` (by their end) and
 * beyond the newest `perNodeCap`. Malformed windows (negative counts, a histogram of another
 * layout, end before start) are dropped here: the gates would drop them anyway.
 */

import { LATENCY_BUCKET_BOUNDS_MS } from '@spooky/proto';
import type Database from 'better-sqlite3';
import type { GenerationHealthFacts, HealthSink } from '../distribution/ports.ts';
import type { HealthWindow } from '../rollout/health-gate.ts';
import type { HealthWindowReader } from '../rollout/rollout-facts.ts';

/** Two hours: longer than any sensible soak plus a restart. */
export const HEALTH_WINDOW_MAX_AGE_MS = 2 * 3_600_000;
/** Per node: two hours of windows for two generations at a 5 s report interval, with room. */
export const HEALTH_WINDOW_PER_NODE_CAP = 4_000;

interface Row {
  seq: number;
  from_ms: number;
  to_ms: number;
  requests: number;
  local_5xx: number;
  upstream_5xx: number;
  latency: string;
}

export interface SqliteHealthWindowsOptions {
  readonly maxAgeMs?: number;
  readonly perNodeCap?: number;
}

export class SqliteHealthWindows implements HealthSink, HealthWindowReader {
  readonly #db: Database.Database;
  readonly #maxAgeMs: number;
  readonly #cap: number;
  #prepared: ReturnType<typeof prepare> | null = null;

  constructor(db: Database.Database, options: SqliteHealthWindowsOptions = {}) {
    this.#db = db;
    this.#maxAgeMs = options.maxAgeMs ?? HEALTH_WINDOW_MAX_AGE_MS;
    this.#cap = options.perNodeCap ?? HEALTH_WINDOW_PER_NODE_CAP;
  }

  /** Prepared on first use (a damaged store is opened without migrating; see open-store.ts). */
  get #stmts(): ReturnType<typeof prepare> {
    this.#prepared ??= prepare(this.#db);
    return this.#prepared;
  }

  windows(nodeId: string, scope: string, windows: readonly GenerationHealthFacts[], at: Date): void {
    const good = windows.filter(wellFormed);
    if (good.length === 0) return;
    this.#db
      .transaction(() => {
        for (const w of good) {
          this.#stmts.insert.run({
            nodeId,
            scope,
            seq: w.generation.seq,
            digest: w.generation.digest,
            fromMs: Math.trunc(w.fromMs),
            toMs: Math.trunc(w.toMs),
            requests: w.requests,
            local5xx: w.local5xx,
            upstream5xx: w.upstream5xx,
            latency: JSON.stringify(w.latencyCounts),
          });
        }
        this.#stmts.pruneAge.run(nodeId, at.getTime() - this.#maxAgeMs);
        this.#stmts.pruneCap.run({ nodeId, keep: this.#cap });
      })
      .immediate();
  }

  /** The node's windows of `scope` that ended at or after `sinceMs`, oldest first. */
  read(nodeId: string, scope: string, sinceMs: number): HealthWindow[] {
    const rows = this.#stmts.read.all(nodeId, scope, sinceMs) as Row[];
    return rows.map((r) => ({
      seq: r.seq,
      fromMs: r.from_ms,
      toMs: r.to_ms,
      requests: r.requests,
      local5xx: r.local_5xx,
      upstream5xx: r.upstream_5xx,
      latency: { boundsMs: LATENCY_BUCKET_BOUNDS_MS, counts: JSON.parse(r.latency) as number[] },
    }));
  }

  /** How many windows are stored for the node (tests and diagnostics). */
  count(nodeId: string): number {
    return (this.#stmts.count.get(nodeId) as { n: number }).n;
  }
}

function wholeAtLeast0(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

function wellFormed(w: GenerationHealthFacts): boolean {
  return (
    Number.isFinite(w.fromMs) &&
    Number.isFinite(w.toMs) &&
    w.toMs >= w.fromMs &&
    wholeAtLeast0(w.requests) &&
    wholeAtLeast0(w.local5xx) &&
    wholeAtLeast0(w.upstream5xx) &&
    w.latencyCounts.length === LATENCY_BUCKET_BOUNDS_MS.length + 1 &&
    w.latencyCounts.every(wholeAtLeast0)
  );
}

function prepare(db: Database.Database) {
  return {
    insert: db.prepare(
      `INSERT INTO node_health_windows (node_id, scope, seq, digest, from_ms, to_ms, requests, local_5xx, upstream_5xx, latency)
       VALUES (@nodeId, @scope, @seq, @digest, @fromMs, @toMs, @requests, @local5xx, @upstream5xx, @latency)
       ON CONFLICT (node_id, seq, digest, from_ms) DO NOTHING`,
    ),
    pruneAge: db.prepare('DELETE FROM node_health_windows WHERE node_id = ? AND to_ms < ?'),
    pruneCap: db.prepare(
      `DELETE FROM node_health_windows WHERE node_id = @nodeId AND ord <= (
         SELECT ord FROM node_health_windows WHERE node_id = @nodeId ORDER BY ord DESC LIMIT 1 OFFSET @keep)`,
    ),
    read: db.prepare(
      `SELECT seq, from_ms, to_ms, requests, local_5xx, upstream_5xx, latency FROM node_health_windows
       WHERE node_id = ? AND scope = ? AND to_ms >= ? ORDER BY from_ms, ord`,
    ),
    count: db.prepare('SELECT count(*) AS n FROM node_health_windows WHERE node_id = ?'),
  };
}
