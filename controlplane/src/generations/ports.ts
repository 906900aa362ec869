/**
 * Ports the generation use cases need. Implemented by store/ (SQLite) and wired in main.ts;
 * generations/ never imports store/ or api/.
 */
import type { ConfigIssue } from '@spooky/config';
import type { NodeCandidate, NodeServingSource } from '../distribution/ports.ts';

/** A stored generation without its document. Timestamps are ISO 8601 strings (UTC). */
export interface GenerationMeta {
  readonly scope: string;
  readonly seq: number;
  readonly digest: string;
  readonly sizeBytes: number;
  readonly author: string;
  readonly reason: string;
  readonly createdAt: string;
  /** The scope's active seq when this generation was created; null when nothing was active. */
  readonly parentSeq: number | null;
  /**
   * Why a node rejected it with a non-retryable NACK (then the generation is "failed" and
   * activating it needs force); null while no node rejected it for good.
   */
  readonly failedReason: string | null;
}

export interface GenerationRecord extends GenerationMeta {
  /** Canonical JSON text; sha256 of its UTF-8 bytes is `digest`. */
  readonly payload: string;
}

/** The per-scope active pointer. `version` starts at 1 with the first activation. */
export interface ActivePointer {
  readonly scope: string;
  readonly seq: number;
  readonly digest: string;
  readonly version: number;
  readonly activatedAt: string;
  readonly actor: string;
  readonly reason: string;
}

export type ActivationKind = 'activate' | 'rollback';

export interface ActivationRecord {
  readonly scope: string;
  readonly seq: number;
  readonly version: number;
  readonly kind: ActivationKind;
  readonly actor: string;
  readonly reason: string;
  readonly at: string;
}

/**
 * Generations, the active pointer and the activation log of every scope. All methods are
 * synchronous; `transaction` runs `fn` as one write transaction (taken immediately, so two
 * writers never interleave) and rolls back when `fn` throws.
 */
export interface GenerationRepo {
  transaction<T>(fn: () => T): T;
  /** Every scope that has reserved a seq, ordered by name. */
  listScopes(): string[];
  /** Reserves and returns the next seq of `scope` (1, 2, …); a reserved seq is never reused. */
  reserveSeq(scope: string): number;
  insertGeneration(record: GenerationRecord): void;
  findByDigest(scope: string, digest: string): GenerationMeta | null;
  getGeneration(scope: string, seq: number): GenerationRecord | null;
  /** Newest first; only seqs strictly below `before` when it is not null. */
  listGenerations(scope: string, limit: number, before: number | null): GenerationMeta[];
  getActive(scope: string): ActivePointer | null;
  setActive(pointer: ActivePointer): void;
  appendActivation(record: ActivationRecord): void;
  /** The scope's whole activation log, oldest first (ascending version); [] before the first. */
  activationHistory(scope: string): ActivationRecord[];
}

export interface AuditEntryInput {
  readonly at: string;
  readonly actor: string;
  readonly action: string;
  readonly scope: string | null;
  readonly detail: Readonly<Record<string, unknown>>;
}

/** Append-only, hash-chained audit trail. Called inside the use case's transaction. */
export interface AuditLog {
  append(entry: AuditEntryInput): void;
}

/** One stored audit entry; `detail` is canonical JSON text (it is what the hash covers). */
export interface AuditEntry {
  readonly id: number;
  readonly at: string;
  readonly actor: string;
  readonly action: string;
  readonly scope: string | null;
  readonly detail: string;
  readonly prev_hash: string;
  readonly hash: string;
}

/** Result of recomputing the chain (GET /v1/audit/verify). */
export type AuditCheck =
  | { readonly ok: true; readonly entries: number }
  | { readonly ok: false; readonly brokenAt: number; readonly reason: string };

/** Read side of the audit trail. */
export interface AuditReader {
  /** Entries with id > `since`, oldest first, of one scope or all, at most `limit`. */
  page(since: number, scope: string | null, limit: number): AuditEntry[];
  check(): AuditCheck;
}

export interface Clock {
  now(): Date;
}

/** stale = connected but silent for more than three report intervals. */
export type NodeState = 'connected' | 'stale' | 'disconnected';

/** One data-plane node as the fleet view shows it (GET /v1/nodes). */
export interface NodeView {
  readonly nodeId: string;
  readonly bootId: string;
  readonly scope: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly schemaMin: number;
  readonly schemaMax: number;
  readonly build: string;
  /** As stored: connected or disconnected; FleetService derives `stale` at read time. */
  readonly state: NodeState;
  readonly serving: { readonly seq: number; readonly digest: string } | null;
  /** The candidate held beside `serving` (staged rollout), null when none: not what it serves. */
  readonly candidate: NodeCandidate | null;
  readonly source: NodeServingSource;
  readonly connectedAt: string;
  readonly lastSeenAt: string;
  readonly lastAck: { readonly seq: number; readonly digest: string; readonly at: string } | null;
  readonly lastNack: {
    readonly seq: number;
    readonly digest: string;
    readonly phase: string;
    readonly retryable: boolean;
    readonly issues: readonly ConfigIssue[];
    readonly at: string;
  } | null;
}

/** Read side of the node records written through distribution's NodeRecorder. */
export interface NodeReader {
  /** All nodes, or those of one scope; ordered by node id. */
  listNodes(scope: string | null): NodeView[];
  getNode(nodeId: string): NodeView | null;
}
