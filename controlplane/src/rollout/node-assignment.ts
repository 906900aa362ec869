/**
 * What a node of a live rollout should hold (distribution's NodeAssignment), derived purely
 * from the persisted RolloutState — so the assignments after a restart are exactly those
 * before it, and the outbox's node effects only have to say "re-decide these nodes".
 *
 *  - live rollout, node added by the current stage, in-node canary on → `candidate(target)`;
 *  - node in the cohort otherwise (an earlier, passed stage; or canary off) → `serve(target)`;
 *  - not in the cohort, or the rollout rolled back or aborted → null: the node follows the
 *    active pointer (the LKG);
 *  - promoted → `serve(target)` for the cohort: the driver keeps a promoted rollout only until
 *    its `activate` effect moved the pointer, then drops it and every node follows the pointer
 *    (null) — the same generation, so no node flaps back to the LKG in between.
 *
 * CanarySpec from the policy (docs/rollout.md §5, decided here):
 *  - minRequests: a per-node share of the gate's `min_requests` over the stage's nodes, at least
 *    20 (no verdict on a handful of requests) and never more than `min_requests`: the fleet gate
 *    needs that many over the whole stage, a node judges its own share of that evidence.
 *  - error thresholds: the node counts local + upstream 5xx as one ratio, so its ceiling and
 *    increase are the SUMS of the local and upstream rules: a node falls back only where at
 *    least one of the gate's rules would fail too; the gate stays the strict judge.
 *  - p99: the gate's factor and noise floor as they are.
 */
import type { CanarySpec, NodeAssignment } from '../distribution/ports.ts';
import { isFinished } from './rollout-machine.ts';
import type { RolloutPolicy } from './rollout-policy.ts';
import type { RolloutState } from './rollout-state.ts';

/** Lower bound of a node's share of `min_requests`. */
export const MIN_NODE_REQUESTS = 20;

export function nodeAssignment(state: RolloutState, nodeId: string): NodeAssignment | null {
  if (state.status === 'rolled_back' || state.status === 'aborted') return null;
  if (!state.cohort.includes(nodeId)) return null;
  if (isFinished(state)) return { kind: 'serve', seq: state.targetSeq };
  if (state.policy.canary.percent > 0 && state.stage.added.includes(nodeId)) {
    return { kind: 'candidate', seq: state.targetSeq, canary: canarySpec(state.policy, state.stage.added.length) };
  }
  return { kind: 'serve', seq: state.targetSeq };
}

export function canarySpec(policy: RolloutPolicy, stageNodes: number): CanarySpec {
  const h = policy.gates.health;
  const share = Math.ceil(h.min_requests / Math.max(1, stageNodes));
  return {
    percent: policy.canary.percent,
    crashWindowMs: policy.canary.crash_window_ms,
    minRequests: Math.min(h.min_requests, Math.max(MIN_NODE_REQUESTS, share)),
    maxErrorRatio: Math.min(1, h.local_5xx.max_ratio + h.upstream_5xx.max_ratio),
    maxErrorIncrease: Math.min(1, h.local_5xx.max_increase + h.upstream_5xx.max_increase),
    maxP99Factor: h.p99.max_factor,
    minP99IncreaseMs: h.p99.min_increase_ms,
  };
}

/** True when both assignments are the same desired state (for "which nodes changed"). */
export function sameAssignment(a: NodeAssignment | null, b: NodeAssignment | null): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
