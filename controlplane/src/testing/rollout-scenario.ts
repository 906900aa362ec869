/**
 * Test fixture (never imported by production code): a deterministic staged rollout driven
 * through the real reducer, for store tests that must compute the same steps in two processes
 * (a child that crashes after saving, the parent that reopens the file). Scope `prod`, target
 * seq 2, LKG seq 1, one canary node and four plain ones; every step's time is fixed.
 */
import type { FleetNode } from '../rollout/cohort-selection.ts';
import type { NodeFacts } from '../rollout/gate-evaluation.ts';
import type { HealthWindow } from '../rollout/health-gate.ts';
import { reduce } from '../rollout/rollout-machine.ts';
import { DEFAULT_ROLLOUT_POLICY, GATE_DEFAULTS, type RolloutPolicy } from '../rollout/rollout-policy.ts';
import type { RolloutEvent, RolloutState, Step } from '../rollout/rollout-state.ts';

export const SCENARIO_SCOPE = 'prod';
export const SCENARIO_TARGET = 2;
export const SCENARIO_LKG = 1;
const T0 = 1_700_000_000_000;
const SOAK = 60_000;

export const SCENARIO_POLICY: RolloutPolicy = {
  ...DEFAULT_ROLLOUT_POLICY,
  stages: [
    { name: 'canary', labels: { role: 'canary' }, percent: 100, min_nodes: 1, soak_ms: SOAK },
    { name: 'half', labels: {}, percent: 50, min_nodes: 1, soak_ms: SOAK },
    { name: 'fleet', labels: {}, percent: 100, min_nodes: 1, soak_ms: 0 },
  ],
  gates: { ...GATE_DEFAULTS, ack_timeout_ms: 30_000, health: { ...GATE_DEFAULTS.health, min_requests: 50 } },
};

const FLEET: FleetNode[] = [{ id: 'c1', labels: { role: 'canary' } }, ...Array.from({ length: 4 }, (_, i) => ({ id: `n${i}`, labels: {} }))];

function win(seq: number, fromMs: number): HealthWindow {
  return { seq, fromMs, toMs: fromMs + 10_000, requests: 100, local5xx: 0, upstream5xx: 0, latency: { boundsMs: [10, 100], counts: [100, 0, 0] } };
}

/** Cohort nodes ACK 1 s after the stage started (those in `nack` NACK); every node reports healthy windows. */
function facts(s: RolloutState, nack: readonly string[] = []): NodeFacts[] {
  const cohort = new Set(s.cohort);
  const at = s.stage.startedAtMs + 1_000;
  return FLEET.map((n): NodeFacts => {
    if (!cohort.has(n.id)) return { id: n.id, answer: { kind: 'none' }, windows: [win(SCENARIO_LKG, at + 1)] };
    const answer = nack.includes(n.id) ? ({ kind: 'nack', atMs: at } as const) : ({ kind: 'ack', atMs: at } as const);
    return { id: n.id, answer, windows: [win(SCENARIO_TARGET, at + 1), win(SCENARIO_LKG, at + 1)] };
  });
}

/**
 * The steps of rollout `id`, in order: start; the canary stage passes (stage 1 starts); an
 * operator pauses; the control plane restarts; a stage-1 node NACKs, which rolls the rollout
 * back (gate numbers and failures in the log). `steps[0]` is `reduce(null, start)`.
 */
export function scenarioSteps(id = 'r-1'): Step[] {
  const steps: Step[] = [];
  const apply = (event: (s: RolloutState) => RolloutEvent): void => {
    const prev = steps[steps.length - 1];
    if (prev === undefined) throw new Error('no start step');
    steps.push(reduce(prev.state, event(prev.state)));
  };
  steps.push(
    reduce(null, {
      type: 'start',
      nowMs: T0,
      id,
      scope: SCENARIO_SCOPE,
      targetSeq: SCENARIO_TARGET,
      lkgSeq: SCENARIO_LKG,
      policy: SCENARIO_POLICY,
      fleet: FLEET,
      streakBefore: 1,
      actor: 'ci',
    }),
  );
  apply((s) => ({ type: 'tick', nowMs: s.stage.startedAtMs + 1_000 + SOAK + 10_000, fleet: FLEET, facts: facts(s) }));
  apply((s) => ({ type: 'pause', nowMs: s.stage.startedAtMs + 5_000, actor: 'ops', reason: 'look at the graphs' }));
  apply((s) => ({ type: 'restart', nowMs: s.stage.startedAtMs + 6_000 }));
  apply((s) => ({ type: 'tick', nowMs: s.stage.startedAtMs + 7_000, fleet: FLEET, facts: facts(s, s.stage.added.slice(0, 1)) }));
  return steps;
}

/** A later rollout event of the same fleet, for checking that a restored state reduces like the original. */
export function scenarioTick(s: RolloutState, nowMs: number): RolloutEvent {
  return { type: 'tick', nowMs, fleet: FLEET, facts: facts(s) };
}
