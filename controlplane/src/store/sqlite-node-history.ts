/**
 * Per-node history (GET /v1/nodes/:id `history`): connected, acked, nacked, disconnected, with
 * the newest `keep` rows kept per node (older ones pruned on insert).
 */
import type Database from 'better-sqlite3';
import type { NodeEventKind, NodeHistory, NodeHistoryEntry } from '../generations/lifecycle-ports.ts';

export const NODE_HISTORY_KEEP = 50;

interface Row {
  kind: string;
  boot_id: string;
  seq: number | null;
  digest: string | null;
  phase: string | null;
  at: string;
}

export class SqliteNodeHistory implements NodeHistory {
  readonly #stmts;
  readonly #keep: number;

  constructor(db: Database.Database, options: { keep?: number } = {}) {
    this.#keep = options.keep ?? NODE_HISTORY_KEEP;
    this.#stmts = {
      insert: db.prepare(
        `INSERT INTO node_events (node_id, boot_id, kind, seq, digest, phase, at)
         VALUES (@nodeId, @bootId, @kind, @seq, @digest, @phase, @at)`,
      ),
      prune: db.prepare(
        `DELETE FROM node_events WHERE node_id = @nodeId AND id <= (
           SELECT id FROM node_events WHERE node_id = @nodeId ORDER BY id DESC LIMIT 1 OFFSET @keep)`,
      ),
      list: db.prepare('SELECT kind, boot_id, seq, digest, phase, at FROM node_events WHERE node_id = ? ORDER BY id DESC LIMIT ?'),
    };
  }

  record(nodeId: string, entry: NodeHistoryEntry): void {
    this.#stmts.insert.run({ nodeId, ...entry });
    this.#stmts.prune.run({ nodeId, keep: this.#keep });
  }

  history(nodeId: string, limit: number): NodeHistoryEntry[] {
    return (this.#stmts.list.all(nodeId, limit) as Row[]).map((r) => ({
      kind: r.kind as NodeEventKind,
      bootId: r.boot_id,
      seq: r.seq,
      digest: r.digest,
      phase: r.phase,
      at: r.at,
    }));
  }
}
