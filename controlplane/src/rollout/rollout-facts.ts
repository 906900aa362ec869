/**
 * What the rollout gates know about the nodes of a scope (gate-evaluation.ts `NodeFacts`), read
 * from the stores the distribution layer writes through the NodeRecorder and the HealthSink:
 *  - `answer`: the node's latest answer to the target digest since the rollout started, from its
 *    persisted history (so a control-plane restart keeps it): an ACK (candidate ACKs included —
 *    the recorder logs them as ACKs) or a NACK (phase "canary" included). Newest wins, so a node
 *    that ACKed and later NACKed (its in-node canary fell back) is `nack`. NACKs of phase
 *    "transfer" are ignored: they are retryable (the node did not hold the bytes for a Promote)
 *    and distribution pushes the generation instead, which the node then answers.
 *  - `windows`: the node's stored health windows of the scope since the rollout started.
 *  - the fleet for cohort selection: the scope's connected nodes with their labels.
 */
import type { NodeHistory, NodeHistoryEntry } from '../generations/lifecycle-ports.ts';
import type { NodeReader } from '../generations/ports.ts';
import type { FleetNode } from './cohort-selection.ts';
import type { NodeAnswer, NodeFacts } from './gate-evaluation.ts';
import type { HealthWindow } from './health-gate.ts';
import type { RolloutState } from './rollout-state.ts';

/** Stored health windows (SqliteHealthWindows). */
export interface HealthWindowReader {
  /** The node's windows of `scope` that ended at or after `sinceMs`, oldest first. */
  read(nodeId: string, scope: string, sinceMs: number): HealthWindow[];
}

/** What the driver reads for one observation. */
export interface RolloutFactsSource {
  fleet(scope: string): FleetNode[];
  facts(state: RolloutState, fleet: readonly FleetNode[]): NodeFacts[];
}

/** History entries read per node: the store keeps 50 (NODE_HISTORY_KEEP). */
const HISTORY_DEPTH = 50;

/**
 * The latest answer to `digest` at or after `sinceMs` in `history` (newest first), as the gates
 * want it. Pure.
 */
export function answerFor(history: readonly NodeHistoryEntry[], digest: string, sinceMs: number): NodeAnswer {
  for (const e of history) {
    const atMs = Date.parse(e.at);
    if (!(atMs >= sinceMs)) continue;
    if (e.digest !== digest) continue;
    // A Hello that says the node serves the target is an answer too: its ACK may have been lost
    // with the stream (a control-plane restart between push and ACK); the node has it applied.
    if (e.kind === 'acked' || e.kind === 'connected') return { kind: 'ack', atMs };
    if (e.kind === 'nacked' && e.phase !== 'transfer') return { kind: 'nack', atMs };
  }
  return { kind: 'none' };
}

export interface StoreRolloutFactsDeps {
  readonly nodes: NodeReader;
  readonly history: NodeHistory;
  readonly health: HealthWindowReader;
  /** The target's digest (null when it vanished: then no node answered it). */
  readonly digestOf: (scope: string, seq: number) => string | null;
}

export class StoreRolloutFacts implements RolloutFactsSource {
  readonly #d: StoreRolloutFactsDeps;

  constructor(deps: StoreRolloutFactsDeps) {
    this.#d = deps;
  }

  fleet(scope: string): FleetNode[] {
    return this.#d.nodes
      .listNodes(scope)
      .filter((n) => n.state === 'connected')
      .map((n) => ({ id: n.nodeId, labels: n.labels }));
  }

  /** Facts for every node of the cohort and of the connected fleet (the baseline is fleet-wide). */
  facts(state: RolloutState, fleet: readonly FleetNode[]): NodeFacts[] {
    const ids = new Set([...state.cohort, ...fleet.map((n) => n.id)]);
    const digest = this.#d.digestOf(state.scope, state.targetSeq);
    return [...ids].map((id) => ({
      id,
      answer: digest === null ? { kind: 'none' } : answerFor(this.#d.history.history(id, HISTORY_DEPTH), digest, state.startedAtMs),
      windows: this.#d.health.read(id, state.scope, state.startedAtMs),
    }));
  }
}
