/**
 * The fleet as the control plane sees it, for dashboards and alerts (deploy/grafana,
 * deploy/prometheus). Gauges are computed at scrape time from the node records (FleetService's
 * live view: `stale` after three missed reports), so nothing runs between scrapes:
 *   spooky_cp_nodes{scope,state}            gauge: nodes per scope in each state (connected,
 *                                           stale, disconnected; every state of a known scope
 *                                           is exported, at 0 when empty)
 *   spooky_cp_node_serving_seq{scope,node}  gauge: seq of the generation each node reports
 *                                           serving (0: none); disconnected nodes are left out
 *                                           (what they served is history, and they would
 *                                           keep a divergence alert firing)
 *   spooky_cp_nacks_total{scope,phase}      counter: NACKs recorded (parse, compile, apply, …;
 *                                           a phase outside NACK_PHASES is counted as "other",
 *                                           so a misbehaving node cannot grow the label set)
 * Node ids are labels of the serving gauge only: it shows the fleet as it is now (bounded by the
 * nodes registered), while counters keep labels that do not churn.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { NodeState, NodeView } from '../generations/ports.ts';

/** Nack phases a data plane sends (the data plane's telemetry/reason-vocabulary.ts NACK_PHASES). */
export const NACK_PHASES = ['transfer', 'digest', 'parse', 'compile', 'apply', 'canary'] as const;
const STATES: readonly NodeState[] = ['connected', 'stale', 'disconnected'];

/** What the gauges read at each scrape: every node with its live state. */
export interface FleetReader {
  listNodes(scope: string | null): NodeView[];
}

/** Registers the three families on `registry`; the returned function counts one NACK. */
export function watchFleet(registry: Registry, fleet: FleetReader): (scope: string, phase: string) => void {
  new Gauge({
    name: 'spooky_cp_nodes',
    help: 'Data-plane nodes per scope and state (connected, stale = three reports missed, disconnected).',
    labelNames: ['scope', 'state'] as const,
    registers: [registry],
    collect() {
      this.reset();
      const counts = new Map<string, Map<NodeState, number>>();
      for (const node of fleet.listNodes(null)) {
        let byState = counts.get(node.scope);
        if (byState === undefined) {
          byState = new Map(STATES.map((s) => [s, 0]));
          counts.set(node.scope, byState);
        }
        byState.set(node.state, (byState.get(node.state) ?? 0) + 1);
      }
      for (const [scope, byState] of counts) for (const [state, n] of byState) this.set({ scope, state }, n);
    },
  });
  new Gauge({
    name: 'spooky_cp_node_serving_seq',
    help: 'Seq of the generation each connected or stale node reports serving (0: none).',
    labelNames: ['scope', 'node'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const node of fleet.listNodes(null)) {
        if (node.state !== 'disconnected') this.set({ scope: node.scope, node: node.nodeId }, node.serving?.seq ?? 0);
      }
    },
  });
  const nacks = new Counter({
    name: 'spooky_cp_nacks_total',
    help: 'NACKs recorded from data planes, by scope and phase.',
    labelNames: ['scope', 'phase'] as const,
    registers: [registry],
  });
  const known = new Set<string>(NACK_PHASES);
  return (scope, phase) => nacks.inc({ scope, phase: known.has(phase) ? phase : 'other' });
}
