/**
 * What one node should hold now (sync-decision.ts DesiredState), from its scope's active
 * snapshot and, while a staged rollout names the node, its assignment (ports.ts
 * NodeAssignments): no assignment (or no `assignments` port at all) → serve the active
 * generation, exactly the behaviour without rollouts; `serve`/`candidate` of seq → that
 * generation's snapshot (the active one when seq is active, else generation-snapshots.ts).
 * An assignment naming a seq that does not exist falls back to the active generation
 * (`missingSeq` tells the caller, which logs it).
 */
import type { DesiredSnapshot, DesiredSnapshots } from './desired-snapshots.ts';
import type { GenerationSnapshots } from './generation-snapshots.ts';
import type { NodeAssignments } from './ports.ts';
import type { DesiredState } from './sync-decision.ts';

export interface DesiredSources {
  readonly snapshots: Pick<DesiredSnapshots, 'desired'>;
  readonly generations?: Pick<GenerationSnapshots, 'get'>;
  readonly assignments?: Pick<NodeAssignments, 'assignment'>;
}

export interface ResolvedDesired {
  readonly state: DesiredState | null;
  /** The snapshots `state` names (target, base), to send whichever the decision picks. */
  readonly snapshots: readonly DesiredSnapshot[];
  /** The seq of a non-active generation the node is assigned (for snapshot retention); null: none. */
  readonly assignedSeq: number | null;
  /** The assignment named a seq the source does not know. */
  readonly missingSeq: number | null;
}

/** Throws what the sources throw (a failing store); the caller logs and decides later. */
export function resolveDesired(sources: DesiredSources, scope: string, nodeId: string): ResolvedDesired {
  const active = sources.snapshots.desired(scope);
  const assignment = sources.assignments?.assignment(scope, nodeId) ?? null;
  const followActive = (missingSeq: number | null): ResolvedDesired => ({
    state: active === null ? null : { mode: 'serve', target: active },
    snapshots: active === null ? [] : [active],
    assignedSeq: null,
    missingSeq,
  });
  if (assignment === null) return followActive(null);
  const isActive = active !== null && active.seq === assignment.seq;
  const target = isActive ? active : (sources.generations?.get(scope, assignment.seq) ?? null);
  if (target === null) return followActive(assignment.seq);
  const assignedSeq = isActive ? null : assignment.seq;
  if (assignment.kind === 'serve') return { state: { mode: 'serve', target }, snapshots: [target], assignedSeq, missingSeq: null };
  return {
    state: { mode: 'candidate', target, canary: assignment.canary, base: active },
    snapshots: active === null ? [target] : [target, active],
    assignedSeq,
    missingSeq: null,
  };
}
