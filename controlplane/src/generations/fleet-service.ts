/**
 * Read side of the fleet for the REST API: node records with their live state (stale is
 * derived at read time from last_seen_at and the report interval), a node's recent history,
 * and a scope's convergence status.
 */
import type { LkgRecord, NodeHistory, NodeHistoryEntry } from './lifecycle-ports.ts';
import { withLiveState } from './node-state.ts';
import type { ActivePointer, Clock, NodeReader, NodeView } from './ports.ts';
import { type ScopeStatus, scopeStatus } from './scope-status.ts';

export const NODE_HISTORY_LIMIT = 20;

export interface FleetServiceDeps {
  readonly nodes: NodeReader;
  readonly history: NodeHistory;
  readonly active: { getActive(scope: string): ActivePointer | null; lkg(scope: string): LkgRecord | null };
  readonly clock: Clock;
  /** The report interval asked of data planes (Welcome); stale after 3 missed. */
  readonly reportIntervalMs: number;
}

export class FleetService {
  readonly #d: FleetServiceDeps;

  constructor(deps: FleetServiceDeps) {
    this.#d = deps;
  }

  /** All nodes, or those of one scope; ordered by node id. */
  listNodes(scope: string | null): NodeView[] {
    const now = this.#d.clock.now().getTime();
    return this.#d.nodes.listNodes(scope).map((n) => withLiveState(n, now, this.#d.reportIntervalMs));
  }

  /** One node plus its last NODE_HISTORY_LIMIT events, newest first; null when unknown. */
  getNode(nodeId: string): { node: NodeView; history: NodeHistoryEntry[] } | null {
    const node = this.#d.nodes.getNode(nodeId);
    if (!node) return null;
    return {
      node: withLiveState(node, this.#d.clock.now().getTime(), this.#d.reportIntervalMs),
      history: this.#d.history.history(nodeId, NODE_HISTORY_LIMIT),
    };
  }

  status(scope: string): ScopeStatus {
    return scopeStatus(scope, this.#d.active.getActive(scope), this.#d.active.lkg(scope)?.seq ?? null, this.listNodes(scope));
  }
}
