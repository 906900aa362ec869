/**
 * The LifecycleRecorder that also tells the rollout driver when it learnt something about a
 * node (connect, ACK, NACK, Report, disconnect): after the inner recorder's transaction
 * committed, `onFacts(scope)` runs with the node's scope (the driver coalesces). A subclass, not
 * a wrapper, so every holder of the recorder (main.ts, the in-process test kit) feeds the driver.
 * `onFacts` must not throw into the distribution session; what it throws is swallowed here and
 * reported to `onError`.
 */
import type { GenerationRef, NodeCandidate, NodeHelloFacts, NodeNackFacts, NodeServingSource } from '../distribution/ports.ts';
import { LifecycleRecorder, type LifecycleRecorderDeps } from '../generations/lifecycle-recorder.ts';

export interface FeedingRecorderOptions {
  readonly onFacts: (scope: string) => void;
  readonly onError?: (err: unknown) => void;
}

export class RolloutFeedingRecorder extends LifecycleRecorder {
  readonly #registry: LifecycleRecorderDeps['registry'];
  readonly #o: FeedingRecorderOptions;

  constructor(deps: LifecycleRecorderDeps, options: FeedingRecorderOptions) {
    super(deps);
    this.#registry = deps.registry;
    this.#o = options;
  }

  override connected(facts: NodeHelloFacts): void {
    super.connected(facts);
    this.#tell(facts.scope);
  }

  override acked(nodeId: string, bootId: string, applied: GenerationRef, at: Date, candidate?: boolean, candidatePercent?: number): void {
    super.acked(nodeId, bootId, applied, at, candidate, candidatePercent);
    this.#tellNode(nodeId);
  }

  override nacked(facts: NodeNackFacts): void {
    super.nacked(facts);
    this.#tellNode(facts.nodeId);
  }

  override reported(
    nodeId: string,
    bootId: string,
    serving: GenerationRef | null,
    source: NodeServingSource,
    at: Date,
    candidate?: NodeCandidate | null,
  ): void {
    super.reported(nodeId, bootId, serving, source, at, candidate);
    this.#tellNode(nodeId);
  }

  override disconnected(nodeId: string, bootId: string, at: Date): void {
    super.disconnected(nodeId, bootId, at);
    this.#tellNode(nodeId);
  }

  #tellNode(nodeId: string): void {
    const scope = this.#registry.getNode(nodeId)?.scope;
    if (scope !== undefined) this.#tell(scope);
  }

  #tell(scope: string): void {
    try {
      this.#o.onFacts(scope);
    } catch (err) {
      this.#o.onError?.(err);
    }
  }
}
