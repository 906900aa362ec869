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

export interface DistributionSource {
  /**
   * The generation the data planes of `scope` should serve now; null before any activation.
   * The server reads it once per scope and move (desired-snapshots.ts keeps it in memory until
   * onActiveChanged fires), not per session or Report.
   */
  desired(scope: string): DesiredGeneration | null;
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
  readonly at: Date;
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
  acked(nodeId: string, bootId: string, applied: GenerationRef, at: Date): void;
  nacked(facts: NodeNackFacts): void;
  reported(nodeId: string, bootId: string, serving: GenerationRef | null, source: NodeServingSource, at: Date): void;
  disconnected(nodeId: string, bootId: string, at: Date): void;
}
