/**
 * Ports of the config lifecycle beyond generations and the active pointer: last known good,
 * failed generations, per-node history and the event log. Implemented by store/ (SQLite);
 * every write runs inside the caller's GenerationRepo.transaction.
 */

export interface GenerationRefLite {
  readonly seq: number;
  readonly digest: string;
}

export interface LkgRecord extends GenerationRefLite {
  readonly scope: string;
  /** When it became LKG. */
  readonly at: string;
}

export interface GenerationFailure {
  readonly scope: string;
  readonly seq: number;
  /** Who rejected it, in which phase, and the first issue (no secrets: issues are redacted). */
  readonly reason: string;
  readonly nodeId: string;
  readonly at: string;
}

export interface LifecycleRepo {
  getLkg(scope: string): LkgRecord | null;
  setLkg(record: LkgRecord): void;
  getFailure(scope: string, seq: number): GenerationFailure | null;
  /** Records the first failure of (scope, seq); returns false when it was already failed. */
  markFailed(failure: GenerationFailure): boolean;
}

/** The closed vocabulary of GET /v1/events. */
export const CP_EVENT_TYPES = [
  'generation.created',
  'active.changed',
  'node.connected',
  'node.acked',
  'node.nacked',
  'node.disconnected',
  'generation.lkg',
  'generation.failed',
] as const;

export type CpEventType = (typeof CP_EVENT_TYPES)[number];

export interface CpEventInput {
  readonly type: CpEventType;
  /** null for events about no scope (none today). */
  readonly scope: string | null;
  readonly data: Readonly<Record<string, unknown>>;
  readonly at: string;
}

export interface CpEvent extends CpEventInput {
  /** Strictly increasing, never reused; the SSE `id`. */
  readonly id: number;
}

/** Where use cases append events; called inside their write transaction. */
export interface EventSink {
  append(event: CpEventInput): void;
}

export interface EventLog extends EventSink {
  /** Events with id > `cursor`, oldest first, optionally of one scope, at most `limit`. */
  after(cursor: number, scope: string | null, limit: number): CpEvent[];
  /** Oldest retained id (null when empty) and the highest id ever handed out (0 when none). */
  window(): { readonly oldest: number | null; readonly latest: number };
  /**
   * `listener` runs (asynchronously, after the appending transaction committed or rolled back)
   * whenever events may have been appended; readers then call `after`. Returns an unsubscribe.
   */
  onAppended(listener: () => void): () => void;
}

export type NodeEventKind = 'connected' | 'acked' | 'nacked' | 'disconnected';

export interface NodeHistoryEntry {
  readonly kind: NodeEventKind;
  readonly bootId: string;
  readonly seq: number | null;
  readonly digest: string | null;
  /** NACK phase; "candidate" for an ACK of a candidate (held beside the serving generation, not served); null otherwise. */
  readonly phase: string | null;
  readonly at: string;
}

/** A bounded history per node (the newest entries are kept). */
export interface NodeHistory {
  record(nodeId: string, entry: NodeHistoryEntry): void;
  /** Newest first, at most `limit`. */
  history(nodeId: string, limit: number): NodeHistoryEntry[];
}
