/**
 * Ports the gRPC distribution server (distribution/) needs from the rest of the control plane.
 * Implemented by the store/generations side and wired in main.ts; distribution/ never imports
 * store/ or api/.
 */
import type { ConfigIssue } from '@spooky/config';

export interface GenerationRef {
  readonly scope: string;
  readonly seq: number;
  readonly digest: string;
}

export interface DesiredGeneration extends GenerationRef {
  /** Canonical JSON bytes; sha256 of these bytes is `digest`. */
  readonly payload: Uint8Array;
  /**
   * The config's schema version (its `version` key). A node whose Hello declares a range
   * [schema_min, schema_max] not containing it is never pushed this generation (skipped and
   * logged; the REST API refuses such activations with 422). Absent: not checked.
   */
  readonly schemaVersion?: number;
}

/**
 * The in-node canary a node soaking a candidate runs (proto CanaryAssignment; docs/rollout.md
 * §5): its share and the local thresholds, from the rollout policy.
 */
export interface CanarySpec {
  readonly percent: number;
  readonly crashWindowMs: number;
  readonly minRequests: number;
  readonly maxErrorRatio: number;
  readonly maxErrorIncrease: number;
  readonly maxP99Factor: number;
  readonly minP99IncreaseMs: number;
}

/**
 * What one node should hold instead of simply following its scope's active generation, while
 * a staged rollout runs (implemented by rollout/, from the live rollout's state):
 *  - `serve`: serve `seq` fully (a node of a passed stage, or a stage without in-node canary);
 *  - `candidate`: keep serving the scope's active generation and hold `seq` beside it with
 *    `canary` (the node ACKs the candidate; a later `serve` of `seq` is sent as a Promote when
 *    the node holds it, and a `null` assignment while it holds a candidate drops it).
 */
export type NodeAssignment =
  | { readonly kind: 'serve'; readonly seq: number }
  | { readonly kind: 'candidate'; readonly seq: number; readonly canary: CanarySpec };

export interface NodeAssignments {
  /** null: the node follows the scope's active generation (no live rollout names it). */
  assignment(scope: string, nodeId: string): NodeAssignment | null;
  /** Called after the assignment of `nodes` in `scope` changed; sessions of those nodes re-decide. Returns an unsubscribe function. */
  onAssignmentsChanged(listener: (scope: string, nodes: readonly string[]) => void): () => void;
}

/** One closed health window a node reported for one generation (proto GenerationHealth). */
export interface GenerationHealthFacts {
  readonly generation: GenerationRef;
  readonly fromMs: number;
  readonly toMs: number;
  readonly requests: number;
  readonly local5xx: number;
  readonly upstream5xx: number;
  /** Counts in the buckets of LATENCY_BUCKET_BOUNDS_MS (@spooky/proto), one more than bounds. */
  readonly latencyCounts: readonly number[];
}

/** Receives the health windows of every Report (rollout/ keeps them for the gates). */
export interface HealthSink {
  windows(nodeId: string, scope: string, windows: readonly GenerationHealthFacts[], at: Date): void;
}

export interface DistributionSource {
  /**
   * The generation the data planes of `scope` should serve now; null before any activation.
   * The server reads it once per scope and move (desired-snapshots.ts keeps it in memory until
   * onActiveChanged fires), not per session or Report.
   */
  desired(scope: string): DesiredGeneration | null;
  /** Generation `seq` of `scope` (a rollout's candidate or target), or null when it does not exist. */
  generation(scope: string, seq: number): DesiredGeneration | null;
  /** Called after every activation or rollback commits. Returns an unsubscribe function. */
  onActiveChanged(listener: (scope: string) => void): () => void;
}

export type NodeServingSource = 'none' | 'control-plane' | 'disk-cache' | 'local-file';

export interface NodeHelloFacts {
  readonly nodeId: string;
  readonly bootId: string;
  readonly scope: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly schemaMin: number;
  readonly schemaMax: number;
  readonly build: string;
  readonly serving: GenerationRef | null;
  readonly source: NodeServingSource;
  /** The candidate held beside `serving` (Hello.candidate); absent or null: none. */
  readonly candidate?: GenerationRef | null;
  /** The candidate's share of new requests (Hello.candidate_percent); absent: unknown. */
  readonly candidatePercent?: number;
  readonly at: Date;
}

/**
 * The candidate generation a node says it holds beside the one it serves (staged rollout,
 * in-node canary) with its share of new requests in percent. Never counted as serving.
 */
export interface NodeCandidate {
  readonly seq: number;
  readonly digest: string;
  readonly percent: number;
}

export interface NodeNackFacts {
  readonly nodeId: string;
  readonly bootId: string;
  readonly nonce: string;
  readonly rejected: GenerationRef;
  readonly stillServing: GenerationRef | null;
  readonly phase: string;
  readonly retryable: boolean;
  readonly issues: readonly ConfigIssue[];
  readonly at: Date;
}

/** Records what each node says; the REST fleet view (/v1/nodes, status) reads it back. */
export interface NodeRecorder {
  connected(facts: NodeHelloFacts): void;
  /**
   * `candidate`: the node holds `applied` as its candidate (in-node canary), not serving it
   * fully; `candidatePercent` is that candidate's share when known. A serve ACK (candidate
   * false) means the node dropped any candidate (a SERVE push or a Promote drops it).
   */
  acked(nodeId: string, bootId: string, applied: GenerationRef, at: Date, candidate?: boolean, candidatePercent?: number): void;
  nacked(facts: NodeNackFacts): void;
  /** `candidate`: what the Report says the node holds beside `serving` (null: none; absent: not told, kept). */
  reported(
    nodeId: string,
    bootId: string,
    serving: GenerationRef | null,
    source: NodeServingSource,
    at: Date,
    candidate?: NodeCandidate | null,
  ): void;
  disconnected(nodeId: string, bootId: string, at: Date): void;
}
