/**
 * The desired generation of each scope, held in memory with its push already encoded
 * (push-plan.ts): one snapshot per scope, shared by every session of that scope, so neither a
 * Report nor a push to one more node reads or copies the payload again.
 *
 * Life of a snapshot: built on the first `desired(scope)` (one read of the source, one
 * encoding); dropped when the source says the scope's active generation changed
 * (activation, rollback) — before this class tells its own listeners, so a session that
 * re-decides on that news always sees the new generation. The source's event comes
 * synchronously after the move's transaction committed, so no reader can see the old
 * snapshot after the commit. `evict(scope)` drops one when the scope has no session left.
 * A scope with nothing active is remembered as null (no read per Report either).
 * A snapshot encodes its push lazily, once per encoding asked for (push-encoding.ts): a fleet of
 * current nodes costs one zstd plan, older nodes one identity plan, a mixed fleet both.
 *
 * The source is the only writer of the active pointer (ActiveService, one control-plane
 * process per store); a pointer moved behind its back would not be seen until the next event.
 */
import { PUSH_CHUNK_BYTES } from '@spooky/proto';
import type { DesiredGeneration, DistributionSource, GenerationRef } from './ports.ts';
import type { PushEncoding } from './push-encoding.ts';
import { type PushPlan, pushPlan } from './push-plan.ts';

export interface DesiredSnapshot extends GenerationRef {
  /** The config's schema version; absent: not checked (see DesiredGeneration). */
  readonly schemaVersion?: number;
  /** The push in `encoding`, built on the first call and shared afterwards. */
  planFor(encoding: PushEncoding): PushPlan;
  /** Bytes held: the canonical payload plus the plans built so far. */
  heldBytes(): number;
}

export class DesiredSnapshots {
  readonly #source: DistributionSource;
  readonly #chunkBytes: number;
  readonly #byScope = new Map<string, DesiredSnapshot | null>();
  readonly #listeners = new Set<(scope: string) => void>();
  readonly #unsubscribe: () => void;
  #builds = 0;

  constructor(source: DistributionSource, chunkBytes: number = PUSH_CHUNK_BYTES) {
    this.#source = source;
    this.#chunkBytes = chunkBytes;
    this.#unsubscribe = source.onActiveChanged((scope) => {
      this.#byScope.delete(scope);
      for (const listener of [...this.#listeners]) listener(scope);
    });
  }

  /**
   * The snapshot of what `scope` should serve, or null before its first activation. Throws
   * what the source throws (nothing is remembered then; the next call reads again).
   */
  desired(scope: string): DesiredSnapshot | null {
    const held = this.#byScope.get(scope);
    if (held !== undefined) return held;
    const generation = this.#source.desired(scope);
    this.#builds++;
    const snapshot = generation === null ? null : snapshotOf(generation, this.#chunkBytes);
    this.#byScope.set(scope, snapshot);
    return snapshot;
  }

  /** Called after a scope's snapshot was dropped for a move. Returns an unsubscribe function. */
  onActiveChanged(listener: (scope: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Forget `scope`'s snapshot (no session of it is left); the next desired() reads again. */
  evict(scope: string): void {
    this.#byScope.delete(scope);
  }

  /** Stop listening to the source and drop every snapshot. */
  close(): void {
    this.#unsubscribe();
    this.#listeners.clear();
    this.#byScope.clear();
  }

  /**
   * Scopes remembered (a scope with nothing active counts, holding 0 bytes) and the bytes
   * their encoded pushes hold (for tests and diagnostics).
   */
  held(): { readonly scopes: number; readonly bytes: number } {
    let bytes = 0;
    for (const snapshot of this.#byScope.values()) bytes += snapshot?.heldBytes() ?? 0;
    return { scopes: this.#byScope.size, bytes };
  }

  /** How many times a snapshot was built from the source (each is one read of it). */
  get builds(): number {
    return this.#builds;
  }
}

/** A snapshot of `generation`: keeps its payload, encodes each push plan when first asked. */
export function snapshotOf(generation: DesiredGeneration, chunkBytes: number): DesiredSnapshot {
  return {
    scope: generation.scope,
    seq: generation.seq,
    digest: generation.digest,
    ...(generation.schemaVersion !== undefined ? { schemaVersion: generation.schemaVersion } : {}),
    ...lazyPlans(generation, generation.payload, chunkBytes),
  };
}

/** planFor/heldBytes of one snapshot; keeps the canonical payload (one copy) to build a plan when first asked. */
function lazyPlans(target: GenerationRef, payload: Uint8Array, chunkBytes: number): Pick<DesiredSnapshot, 'planFor' | 'heldBytes'> {
  const plans = new Map<PushEncoding, PushPlan>();
  const ref: GenerationRef = { scope: target.scope, seq: target.seq, digest: target.digest };
  return {
    planFor(encoding) {
      let plan = plans.get(encoding);
      if (plan === undefined) {
        plan = pushPlan(ref, payload, chunkBytes, encoding);
        plans.set(encoding, plan);
      }
      return plan;
    },
    heldBytes() {
      let bytes = payload.byteLength;
      for (const plan of plans.values()) bytes += plan.heldBytes;
      return bytes;
    },
  };
}
