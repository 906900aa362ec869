/**
 * Snapshots of generations other than a scope's active one, named by a staged rollout's node
 * assignments (its target, held as a candidate or served by a passed stage): one per
 * (scope, seq), read once from the source (`DistributionSource.generation`) and encoded lazily
 * per push encoding exactly like the active snapshot (desired-snapshots.ts `snapshotOf`).
 *
 * A generation is immutable, so a snapshot never goes stale; it is only dropped when no session
 * needs it any more (`retain`, called by the server after assignments changed and when a
 * session ends). A seq that does not exist is not remembered (the next call reads again: the
 * rollout may name it before the caller could see it, and a miss costs one read).
 */
import { PUSH_CHUNK_BYTES } from '@spooky/proto';
import { type DesiredSnapshot, snapshotOf } from './desired-snapshots.ts';
import type { DistributionSource } from './ports.ts';

export class GenerationSnapshots {
  readonly #source: Pick<DistributionSource, 'generation'>;
  readonly #chunkBytes: number;
  /** scope → seq → snapshot. */
  readonly #byScope = new Map<string, Map<number, DesiredSnapshot>>();
  #builds = 0;

  constructor(source: Pick<DistributionSource, 'generation'>, chunkBytes: number = PUSH_CHUNK_BYTES) {
    this.#source = source;
    this.#chunkBytes = chunkBytes;
  }

  /** Generation `seq` of `scope`, or null when it does not exist. Throws what the source throws. */
  get(scope: string, seq: number): DesiredSnapshot | null {
    const held = this.#byScope.get(scope)?.get(seq);
    if (held !== undefined) return held;
    const generation = this.#source.generation(scope, seq);
    if (generation === null) return null;
    this.#builds++;
    const snapshot = snapshotOf(generation, this.#chunkBytes);
    let seqs = this.#byScope.get(scope);
    if (seqs === undefined) {
      seqs = new Map();
      this.#byScope.set(scope, seqs);
    }
    seqs.set(seq, snapshot);
    return snapshot;
  }

  /** Keep only the snapshots of `scope` whose seq is in `needed` (what its sessions still name). */
  retain(scope: string, needed: ReadonlySet<number>): void {
    const seqs = this.#byScope.get(scope);
    if (seqs === undefined) return;
    for (const seq of [...seqs.keys()]) if (!needed.has(seq)) seqs.delete(seq);
    if (seqs.size === 0) this.#byScope.delete(scope);
  }

  close(): void {
    this.#byScope.clear();
  }

  /** Snapshots held and the bytes of their payloads and plans (tests, diagnostics). */
  held(): { readonly generations: number; readonly bytes: number } {
    let generations = 0;
    let bytes = 0;
    for (const seqs of this.#byScope.values()) {
      for (const snapshot of seqs.values()) {
        generations++;
        bytes += snapshot.heldBytes();
      }
    }
    return { generations, bytes };
  }

  /** How many snapshots were built from the source (each is one read of it). */
  get builds(): number {
    return this.#builds;
  }
}
