/**
 * The verdict on one stage of a rollout (docs/rollout.md, "Gates"): pass, fail or wait, with
 * the numbers behind it. Pure: time is `nowMs`, facts are what the distribution layer knows.
 *
 * Order of the gates:
 *  1. NACK budget — over the whole cohort (a node that ACKed and later NACKs, e.g. its in-node
 *     canary fell back, counts): more NACKs than `nack_budget` fails at once.
 *  2. Cohort size — fewer selected nodes than `min_nodes` at the ACK deadline fails.
 *  3. ACK quorum — `ceil(ack_quorum × stage nodes)` of the nodes this stage added must ACK by the
 *     deadline; nodes silent by then are `unknown` (reported, never waited for beyond it).
 *  4. Soak — starts at the ACK that made the quorum, lasts `soak_ms`. During it a health rule
 *     with enough data that fails, fails the stage early; at its end every rule must pass and
 *     missing data fails. A stage with `soak_ms` 0, or promoted by an operator, has no health gate.
 */
import { type GateFailure, groupHealth, type HealthNumbers, type HealthWindow, healthFailures } from './health-gate.ts';
import type { GatePolicy } from './rollout-policy.ts';

/** A node's latest answer to the target generation. */
export type NodeAnswer =
  | { readonly kind: 'ack'; readonly atMs: number }
  | { readonly kind: 'nack'; readonly atMs: number }
  | { readonly kind: 'none' };

/** What the control plane knows about one node for the rollout's target. */
export interface NodeFacts {
  readonly id: string;
  readonly answer: NodeAnswer;
  /** Recent health windows of this node, any generation. */
  readonly windows: readonly HealthWindow[];
}

export interface StageGateInput {
  readonly gates: GatePolicy;
  readonly soakMs: number;
  readonly minNodes: number;
  readonly targetSeq: number;
  /** The generation the baseline is measured on (the LKG the rollout started from). */
  readonly baselineSeq: number;
  /** Nodes this stage added (the ACK quorum is over these). */
  readonly stageNodes: readonly string[];
  /** The whole cohort after this stage (earlier stages included). */
  readonly cohort: readonly string[];
  /** Nodes of the cohort matching this stage's labels (`CohortPlan.selected`), against `minNodes`. */
  readonly selected: number;
  /** When the stage pushed its nodes; the soak of a stage that added no node starts here. */
  readonly startedAtMs: number;
  readonly ackDeadlineMs: number;
  /** An operator promoted the stage: it passes as soon as the ACK gates pass. */
  readonly promoted: boolean;
  readonly facts: readonly NodeFacts[];
  readonly nowMs: number;
  /**
   * The control plane restarted during this stage: until this time, a soak end whose only
   * failures are missing data (`health.samples`, `health.p99.missing`) waits instead of failing,
   * so nodes have had the resume grace to reconnect and report. With enough data the stage
   * passes or fails at the soak end as usual. Absent: no restart.
   */
  readonly verdictNotBeforeMs?: number;
}

export interface AckNumbers {
  readonly stageNodes: number;
  readonly quorum: number;
  readonly acked: number;
  readonly nacked: readonly string[];
  /** Stage nodes with no answer: `pending` before the deadline, `unknown` after it. */
  readonly silent: readonly string[];
  readonly silentAre: 'pending' | 'unknown';
  readonly cohort: number;
}

export interface GateNumbers {
  readonly acks: AckNumbers;
  /** Null until the ACK quorum is reached. */
  readonly soakStartMs: number | null;
  readonly soakEndMs: number | null;
  /** Null before the soak and for stages without a health gate. */
  readonly health: HealthNumbers | null;
}

export type GateVerdict =
  | { readonly kind: 'pass'; readonly numbers: GateNumbers }
  | { readonly kind: 'fail'; readonly failures: readonly GateFailure[]; readonly numbers: GateNumbers }
  /** Decide again at `untilMs` at the latest (or when facts change). */
  | { readonly kind: 'wait'; readonly phase: 'acks' | 'soak'; readonly untilMs: number; readonly numbers: GateNumbers };

/** Rules that fail for want of data, not for bad data: held back by `verdictNotBeforeMs`. */
const MISSING_DATA_RULES: ReadonlySet<string> = new Set(['health.samples', 'health.p99.missing']);

export function evaluateStage(input: StageGateInput): GateVerdict {
  const byId = new Map(input.facts.map((f) => [f.id, f]));
  const answer = (id: string): NodeAnswer => byId.get(id)?.answer ?? { kind: 'none' };
  const afterDeadline = input.nowMs >= input.ackDeadlineMs;

  const nacked = input.cohort.filter((id) => answer(id).kind === 'nack');
  const ackTimes = input.stageNodes
    .map((id) => answer(id))
    .flatMap((a) => (a.kind === 'ack' ? [a.atMs] : []))
    .sort((a, b) => a - b);
  const silent = input.stageNodes.filter((id) => answer(id).kind === 'none');
  // max(0, …): ceil of a tiny negative is -0, which JSON would store as 0.
  const quorum = Math.max(0, Math.ceil(input.gates.ack_quorum * input.stageNodes.length - 1e-9));
  const acks: AckNumbers = {
    stageNodes: input.stageNodes.length,
    quorum,
    acked: ackTimes.length,
    nacked,
    silent,
    silentAre: afterDeadline ? 'unknown' : 'pending',
    cohort: input.cohort.length,
  };
  const noSoak: GateNumbers = { acks, soakStartMs: null, soakEndMs: null, health: null };

  if (nacked.length > input.gates.nack_budget) {
    const failure = { rule: 'nack.budget', observed: nacked.length, limit: input.gates.nack_budget, nodes: nacked };
    return { kind: 'fail', failures: [failure], numbers: noSoak };
  }
  if (input.selected < input.minNodes) {
    if (!afterDeadline) return { kind: 'wait', phase: 'acks', untilMs: input.ackDeadlineMs, numbers: noSoak };
    const failure = { rule: 'cohort.min_nodes', observed: input.selected, limit: input.minNodes };
    return { kind: 'fail', failures: [failure], numbers: noSoak };
  }
  if (ackTimes.length < quorum) {
    if (!afterDeadline) return { kind: 'wait', phase: 'acks', untilMs: input.ackDeadlineMs, numbers: noSoak };
    const failure = { rule: 'ack.quorum', observed: ackTimes.length, limit: quorum, nodes: silent };
    return { kind: 'fail', failures: [failure], numbers: noSoak };
  }

  const soakStartMs = quorum === 0 ? input.startedAtMs : ackTimes[quorum - 1]!;
  const soakEndMs = soakStartMs + input.soakMs;
  if (input.promoted || input.soakMs === 0) {
    return { kind: 'pass', numbers: { acks, soakStartMs, soakEndMs, health: null } };
  }
  const windows = new Map(input.facts.map((f) => [f.id, f.windows]));
  const health: HealthNumbers = {
    candidate: groupHealth(windows, input.cohort, input.targetSeq, soakStartMs),
    baseline: groupHealth(windows, byId.keys(), input.baselineSeq, soakStartMs),
  };
  const numbers: GateNumbers = { acks, soakStartMs, soakEndMs, health };
  const final = input.nowMs >= soakEndMs;
  const failures = healthFailures(input.gates.health, health, final);
  // After a restart, missing data is no failure until the nodes had the grace to report again.
  const graceMs = input.verdictNotBeforeMs ?? 0;
  if (final && input.nowMs < graceMs && failures.length > 0 && failures.every((f) => MISSING_DATA_RULES.has(f.rule))) {
    return { kind: 'wait', phase: 'soak', untilMs: graceMs, numbers };
  }
  if (failures.length > 0) return { kind: 'fail', failures, numbers };
  if (!final) return { kind: 'wait', phase: 'soak', untilMs: soakEndMs, numbers };
  return { kind: 'pass', numbers };
}
