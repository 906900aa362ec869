/**
 * Node records: the write side is distribution's NodeRecorder (one row per node id, replaced
 * on each Hello), the read side is the fleet view's NodeReader. Updates after Hello only touch
 * the row when the boot id matches, so a late message from a previous boot of the same node
 * never overwrites what the current boot said.
 *
 * The candidate column (migration 5) is what the node last said it holds beside what it
 * serves: set by the Hello, a candidate ACK and every Report; cleared by a serve ACK (a SERVE
 * push or a Promote drops any candidate). A NACK leaves it: the next Report says what is held.
 * A disconnect leaves it too: it is the last the node said (a node keeps its candidate and its
 * in-node canary while the control plane is unreachable).
 */
import type { ConfigIssue } from '@spooky/config';
import type Database from 'better-sqlite3';
import type {
  GenerationRef,
  NodeCandidate,
  NodeHelloFacts,
  NodeNackFacts,
  NodeRecorder,
  NodeServingSource,
} from '../distribution/ports.ts';
import type { NodeReader, NodeView } from '../generations/ports.ts';

interface NodeRow {
  node_id: string;
  boot_id: string;
  scope: string;
  labels: string;
  schema_min: number;
  schema_max: number;
  build: string;
  serving_seq: number | null;
  serving_digest: string | null;
  source: string;
  state: 'connected' | 'disconnected';
  connected_at: string;
  last_seen_at: string;
  last_ack: string | null;
  last_nack: string | null;
  candidate: string | null;
}

export class SqliteNodeRegistry implements NodeRecorder, NodeReader {
  readonly #stmts;

  constructor(db: Database.Database) {
    this.#stmts = {
      hello: db.prepare(
        `INSERT INTO nodes (node_id, boot_id, scope, labels, schema_min, schema_max, build, serving_seq, serving_digest,
           source, state, connected_at, last_seen_at, last_ack, last_nack, candidate)
         VALUES (@nodeId, @bootId, @scope, @labels, @schemaMin, @schemaMax, @build, @servingSeq, @servingDigest,
           @source, 'connected', @at, @at, NULL, NULL, @candidate)
         ON CONFLICT (node_id) DO UPDATE SET
           last_ack = CASE WHEN boot_id = excluded.boot_id THEN last_ack END,
           last_nack = CASE WHEN boot_id = excluded.boot_id THEN last_nack END,
           boot_id = excluded.boot_id, scope = excluded.scope, labels = excluded.labels,
           schema_min = excluded.schema_min, schema_max = excluded.schema_max, build = excluded.build,
           serving_seq = excluded.serving_seq, serving_digest = excluded.serving_digest, source = excluded.source,
           candidate = excluded.candidate, state = 'connected', connected_at = excluded.connected_at, last_seen_at = excluded.last_seen_at`,
      ),
      ack: db.prepare(
        `UPDATE nodes SET serving_seq = @seq, serving_digest = @digest, source = 'control-plane',
           candidate = NULL, last_ack = @ack, last_seen_at = @at WHERE node_id = @nodeId AND boot_id = @bootId`,
      ),
      // A candidate ACK (in-node canary): the node holds it beside what it serves, which stays.
      candidateAck: db.prepare(
        'UPDATE nodes SET candidate = @candidate, last_ack = @ack, last_seen_at = @at WHERE node_id = @nodeId AND boot_id = @bootId',
      ),
      nack: db.prepare(
        `UPDATE nodes SET serving_seq = @servingSeq, serving_digest = @servingDigest, last_nack = @nack,
           last_seen_at = @at WHERE node_id = @nodeId AND boot_id = @bootId`,
      ),
      report: db.prepare(
        `UPDATE nodes SET serving_seq = @servingSeq, serving_digest = @servingDigest, source = @source,
           last_seen_at = @at WHERE node_id = @nodeId AND boot_id = @bootId`,
      ),
      reportCandidate: db.prepare('UPDATE nodes SET candidate = @candidate WHERE node_id = @nodeId AND boot_id = @bootId'),
      gone: db.prepare(
        `UPDATE nodes SET state = 'disconnected', last_seen_at = @at WHERE node_id = @nodeId AND boot_id = @bootId`,
      ),
      all: db.prepare('SELECT * FROM nodes ORDER BY node_id'),
      byScope: db.prepare('SELECT * FROM nodes WHERE scope = ? ORDER BY node_id'),
      one: db.prepare('SELECT * FROM nodes WHERE node_id = ?'),
    };
  }

  connected(facts: NodeHelloFacts): void {
    this.#stmts.hello.run({
      nodeId: facts.nodeId,
      bootId: facts.bootId,
      scope: facts.scope,
      labels: JSON.stringify(facts.labels),
      schemaMin: facts.schemaMin,
      schemaMax: facts.schemaMax,
      build: facts.build,
      ...serving(facts.serving),
      source: facts.source,
      candidate: candidateJson(facts.candidate ? { ...facts.candidate, percent: facts.candidatePercent ?? 0 } : null),
      at: facts.at.toISOString(),
    });
  }

  /** `candidate`: the node holds `applied` as its candidate; `serving` is left as it is. */
  acked(nodeId: string, bootId: string, applied: GenerationRef, at: Date, candidate = false, candidatePercent?: number): void {
    const when = at.toISOString();
    const ack = JSON.stringify({ seq: applied.seq, digest: applied.digest, at: when });
    if (candidate) {
      const held = candidateJson({ seq: applied.seq, digest: applied.digest, percent: candidatePercent ?? 0 });
      this.#stmts.candidateAck.run({ nodeId, bootId, ack, candidate: held, at: when });
      return;
    }
    this.#stmts.ack.run({ nodeId, bootId, seq: applied.seq, digest: applied.digest, ack, at: when });
  }

  nacked(facts: NodeNackFacts): void {
    const when = facts.at.toISOString();
    const nack = {
      seq: facts.rejected.seq,
      digest: facts.rejected.digest,
      phase: facts.phase,
      retryable: facts.retryable,
      issues: facts.issues,
      at: when,
    };
    this.#stmts.nack.run({
      nodeId: facts.nodeId,
      bootId: facts.bootId,
      ...serving(facts.stillServing),
      nack: JSON.stringify(nack),
      at: when,
    });
  }

  reported(
    nodeId: string,
    bootId: string,
    current: GenerationRef | null,
    source: NodeServingSource,
    at: Date,
    candidate?: NodeCandidate | null,
  ): void {
    this.#stmts.report.run({ nodeId, bootId, ...serving(current), source, at: at.toISOString() });
    if (candidate !== undefined) this.#stmts.reportCandidate.run({ nodeId, bootId, candidate: candidateJson(candidate) });
  }

  disconnected(nodeId: string, bootId: string, at: Date): void {
    this.#stmts.gone.run({ nodeId, bootId, at: at.toISOString() });
  }

  listNodes(scope: string | null): NodeView[] {
    const rows = (scope === null ? this.#stmts.all.all() : this.#stmts.byScope.all(scope)) as NodeRow[];
    return rows.map(toView);
  }

  getNode(nodeId: string): NodeView | null {
    const row = this.#stmts.one.get(nodeId) as NodeRow | undefined;
    return row ? toView(row) : null;
  }
}

function serving(ref: GenerationRef | null): { servingSeq: number | null; servingDigest: string | null } {
  return { servingSeq: ref?.seq ?? null, servingDigest: ref?.digest ?? null };
}

function candidateJson(held: NodeCandidate | null): string | null {
  return held === null ? null : JSON.stringify({ seq: held.seq, digest: held.digest, percent: held.percent });
}

function toView(row: NodeRow): NodeView {
  return {
    nodeId: row.node_id,
    bootId: row.boot_id,
    scope: row.scope,
    labels: JSON.parse(row.labels) as Record<string, string>,
    schemaMin: row.schema_min,
    schemaMax: row.schema_max,
    build: row.build,
    state: row.state,
    serving:
      row.serving_seq !== null && row.serving_digest !== null ? { seq: row.serving_seq, digest: row.serving_digest } : null,
    candidate: row.candidate === null ? null : (JSON.parse(row.candidate) as NodeCandidate),
    source: row.source as NodeServingSource,
    connectedAt: row.connected_at,
    lastSeenAt: row.last_seen_at,
    lastAck: row.last_ack === null ? null : (JSON.parse(row.last_ack) as NodeView['lastAck']),
    lastNack:
      row.last_nack === null
        ? null
        : (JSON.parse(row.last_nack) as { seq: number; digest: string; phase: string; retryable: boolean; issues: ConfigIssue[]; at: string }),
  };
}
