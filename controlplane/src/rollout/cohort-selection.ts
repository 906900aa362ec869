/**
 * Which nodes a stage of a rollout adds (docs/rollout.md, "Cohorts"). Pure.
 *
 * - A node's place in line is `cohortScore(rolloutId, nodeId)`: a stable hash in [0, 1). Salting
 *   with the rollout id means re-evaluating the same rollout (a tick, a control-plane restart)
 *   picks the same nodes, while the next rollout puts other nodes first, so the risk of going
 *   first is spread over the fleet. A fixed first set is what label stages (`role=canary`) are for.
 * - A stage selects among the nodes matching its labels; it wants
 *   `min(eligible, max(min_nodes, ceil(percent/100 × eligible)))` of them. Nodes admitted by an
 *   earlier stage stay in the cohort and count first; the rest are the lowest scores. Because the
 *   order never changes within a rollout, stages are cumulative (a node in stage k is in every
 *   later stage) and a percent stage's picks are a superset of a smaller percent's.
 */
import { createHash } from 'node:crypto';

/** A node as cohort selection sees it: its id and its `--label`s. */
export interface FleetNode {
  readonly id: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** What a stage selects: a share of the nodes carrying some labels (an empty record: all). */
export interface StageSelector {
  readonly labels: Readonly<Record<string, string>>;
  readonly percent: number;
  readonly min_nodes: number;
}

export interface CohortPlan {
  /** Every node of the rollout after this stage: `admitted` plus `added`, in admission order. */
  readonly cohort: readonly string[];
  /** Nodes this stage adds (to be pushed the target), lowest score first. */
  readonly added: readonly string[];
  /** Nodes of the fleet matching the stage's labels. */
  readonly eligible: number;
  /** How many matching nodes the stage wants in the cohort. */
  readonly wanted: number;
  /** Matching nodes in the cohort after this stage (admitted ones included). */
  readonly selected: number;
  /** `selected < min_nodes`: the fleet has too few matching nodes (yet) for this stage. */
  readonly short: boolean;
}

/** Stable position of `nodeId` in the line of rollout `salt`, in [0, 1): 48 bits of sha256. */
export function cohortScore(salt: string, nodeId: string): number {
  const h = createHash('sha256').update(salt).update('\n').update(nodeId).digest();
  return h.readUIntBE(0, 6) / 2 ** 48;
}

/** True when the node carries every label of the selector with the same value. */
export function matchesLabels(node: FleetNode, labels: Readonly<Record<string, string>>): boolean {
  for (const [key, value] of Object.entries(labels)) {
    if (!Object.hasOwn(node.labels, key) || node.labels[key] !== value) return false;
  }
  return true;
}

/** The nodes `stage` adds to the `admitted` ones of rollout `salt`, given the fleet as it is now. */
export function selectCohort(
  salt: string,
  stage: StageSelector,
  fleet: readonly FleetNode[],
  admitted: readonly string[],
): CohortPlan {
  const inCohort = new Set(admitted);
  const eligible = uniqueById(fleet).filter((n) => matchesLabels(n, stage.labels));
  const wanted = Math.min(eligible.length, Math.max(stage.min_nodes, Math.ceil((stage.percent / 100) * eligible.length - 1e-9)));
  const already = eligible.filter((n) => inCohort.has(n.id)).length;
  const candidates = eligible
    .filter((n) => !inCohort.has(n.id))
    .map((n) => ({ id: n.id, score: cohortScore(salt, n.id) }))
    .sort((a, b) => a.score - b.score || (a.id < b.id ? -1 : 1));
  const added = candidates.slice(0, Math.max(0, wanted - already)).map((c) => c.id);
  const selected = already + added.length;
  return {
    cohort: [...admitted, ...added],
    added,
    eligible: eligible.length,
    wanted,
    selected,
    short: selected < stage.min_nodes,
  };
}

/** A node id reported twice (two sessions during a reconnect) counts once. */
function uniqueById(fleet: readonly FleetNode[]): FleetNode[] {
  const seen = new Set<string>();
  const unique: FleetNode[] = [];
  for (const n of fleet) {
    if (seen.has(n.id)) continue;
    seen.add(n.id);
    unique.push(n);
  }
  return unique;
}
