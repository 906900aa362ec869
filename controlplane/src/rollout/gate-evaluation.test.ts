import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateStage, type GateVerdict, type NodeAnswer, type NodeFacts, type StageGateInput } from './gate-evaluation.ts';
import type { HealthWindow } from './health-gate.ts';
import type { LatencyHistogram } from './latency-histogram.ts';
import { GATE_DEFAULTS } from './rollout-policy.ts';

const BOUNDS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];
const TARGET = 8;
const LKG = 7;
const SOAK = 300_000;

/** A histogram with all `n` requests in the bucket whose upper bound is `ms`. */
function latencyAt(ms: number, n: number): LatencyHistogram {
  const i = BOUNDS.indexOf(ms);
  assert.ok(i >= 0, `no bucket ${ms}`);
  return { boundsMs: BOUNDS, counts: BOUNDS.map((_, j) => (j === i ? n : 0)).concat([0]) };
}

interface W {
  seq?: number;
  from?: number;
  requests?: number;
  local?: number;
  upstream?: number;
  bucket?: number;
  latency?: LatencyHistogram;
}
function win(w: W = {}): HealthWindow {
  const requests = w.requests ?? 1_000;
  return {
    seq: w.seq ?? TARGET,
    fromMs: w.from ?? 10_000,
    toMs: (w.from ?? 10_000) + 10_000,
    requests,
    local5xx: w.local ?? 0,
    upstream5xx: w.upstream ?? 0,
    latency: w.latency ?? latencyAt(w.bucket ?? 50, requests),
  };
}
const ack = (atMs: number): NodeAnswer => ({ kind: 'ack', atMs });
const nack = (atMs: number): NodeAnswer => ({ kind: 'nack', atMs });
const none: NodeAnswer = { kind: 'none' };
const node = (id: string, answer: NodeAnswer, windows: HealthWindow[] = []): NodeFacts => ({ id, answer, windows });

/** Cohort a, b (both added by this stage, ACKed at 1 s and 2 s: the soak runs 2 s → 302 s); rest c, d on the LKG. */
function healthyFleet(candidate: W = {}, baseline: W = {}): NodeFacts[] {
  return [
    node('a', ack(1_000), [win(candidate)]),
    node('b', ack(2_000), [win(candidate)]),
    node('c', none, [win({ ...baseline, seq: LKG })]),
    node('d', none, [win({ ...baseline, seq: LKG })]),
  ];
}

function input(over: Partial<StageGateInput> = {}): StageGateInput {
  return {
    gates: GATE_DEFAULTS,
    soakMs: SOAK,
    minNodes: 1,
    targetSeq: TARGET,
    baselineSeq: LKG,
    stageNodes: ['a', 'b'],
    cohort: ['a', 'b'],
    selected: 2,
    startedAtMs: 0,
    ackDeadlineMs: 120_000,
    promoted: false,
    facts: healthyFleet(),
    nowMs: 150_000,
    ...over,
  };
}

const rules = (v: GateVerdict): string[] => (v.kind === 'fail' ? v.failures.map((f) => f.rule) : []);
const END = 2_000 + SOAK;

interface Case {
  readonly name: string;
  readonly input: StageGateInput;
  readonly kind: GateVerdict['kind'];
  readonly rules?: readonly string[];
  readonly check?: (v: GateVerdict) => void;
}

const cases: readonly Case[] = [
  // ACK phase
  {
    name: 'no answer yet before the deadline: wait for ACKs until the deadline',
    input: input({ facts: [node('a', none), node('b', none)], nowMs: 10_000 }),
    kind: 'wait',
    check: (v) => {
      assert.deepEqual(v.kind === 'wait' && [v.phase, v.untilMs], ['acks', 120_000]);
      assert.deepEqual(v.numbers.acks.silent, ['a', 'b']);
      assert.equal(v.numbers.acks.silentAre, 'pending');
    },
  },
  {
    name: 'a NACK over a budget of 0 fails at once, before the deadline',
    input: input({ facts: [node('a', ack(1_000)), node('b', nack(1_500))], nowMs: 5_000 }),
    kind: 'fail',
    rules: ['nack.budget'],
    check: (v) => assert.deepEqual(v.kind === 'fail' && v.failures[0]?.nodes, ['b']),
  },
  {
    name: 'a NACK within a budget of 1 does not fail; the quorum still counts ACKs only',
    input: input({ gates: { ...GATE_DEFAULTS, nack_budget: 1, ack_quorum: 0.5 }, facts: [node('a', ack(1_000)), node('b', nack(1_500))], nowMs: 5_000 }),
    kind: 'wait',
    check: (v) => assert.deepEqual(v.kind === 'wait' && [v.phase, v.numbers.soakStartMs], ['soak', 1_000]),
  },
  {
    name: 'an earlier stage node that ACKed and now NACKs (its in-node canary fell back) fails the stage',
    input: input({ stageNodes: ['a', 'b'], cohort: ['x', 'a', 'b'], facts: [node('x', nack(90_000)), ...healthyFleet()] }),
    kind: 'fail',
    rules: ['nack.budget'],
  },
  {
    name: 'a wedged node after the deadline is unknown and fails a quorum it is needed for',
    input: input({ facts: [node('a', ack(1_000)), node('b', none)], nowMs: 120_000 }),
    kind: 'fail',
    rules: ['ack.quorum'],
    check: (v) => {
      assert.deepEqual(v.kind === 'fail' && v.failures[0], { rule: 'ack.quorum', observed: 1, limit: 2, nodes: ['b'] });
      assert.equal(v.numbers.acks.silentAre, 'unknown');
    },
  },
  {
    name: 'a wedged node never blocks when the quorum is met without it: reported unknown, the soak goes on',
    input: input({
      stageNodes: Array.from({ length: 20 }, (_, i) => `n${i}`),
      cohort: Array.from({ length: 20 }, (_, i) => `n${i}`),
      selected: 20,
      facts: Array.from({ length: 20 }, (_, i) => node(`n${i}`, i === 19 ? none : ack(1_000 + i))),
      nowMs: 130_000,
    }),
    kind: 'wait',
    check: (v) => {
      assert.equal(v.numbers.acks.quorum, 19);
      assert.deepEqual(v.numbers.acks.silent, ['n19']);
      assert.equal(v.numbers.acks.silentAre, 'unknown');
      assert.equal(v.numbers.soakStartMs, 1_018, 'the soak starts at the ACK that made the quorum');
    },
  },
  {
    name: 'too few nodes for min_nodes: wait until the deadline …',
    input: input({ stageNodes: [], cohort: [], selected: 0, facts: [], nowMs: 60_000 }),
    kind: 'wait',
  },
  {
    name: '… then fail cohort.min_nodes',
    input: input({ stageNodes: [], cohort: [], selected: 0, facts: [], nowMs: 120_000 }),
    kind: 'fail',
    rules: ['cohort.min_nodes'],
  },
  {
    name: 'a stage that adds no node (earlier stages already cover it) soaks from its start',
    input: input({ stageNodes: [], cohort: ['a', 'b'], selected: 2, startedAtMs: 50_000, nowMs: 60_000 }),
    kind: 'wait',
    check: (v) => assert.deepEqual([v.numbers.soakStartMs, v.numbers.soakEndMs], [50_000, 50_000 + SOAK]),
  },
  // soak and health
  {
    name: 'healthy data during the soak: wait until its end',
    input: input({ nowMs: 150_000 }),
    kind: 'wait',
    check: (v) => assert.deepEqual(v.kind === 'wait' && [v.phase, v.untilMs], ['soak', END]),
  },
  {
    name: 'healthy data at the end of the soak: pass, with the numbers',
    input: input({ nowMs: END }),
    kind: 'pass',
    check: (v) => {
      assert.equal(v.numbers.health?.candidate.requests, 2_000);
      assert.equal(v.numbers.health?.candidate.nodes, 2);
      assert.equal(v.numbers.health?.baseline.requests, 2_000);
      assert.equal(v.numbers.health?.candidate.local5xxRatio, 0);
      assert.equal(v.numbers.health?.candidate.p99Ms, 25 + 25 * 0.99);
    },
  },
  {
    name: 'no windows at all at the end of the soak: missing data fails',
    input: input({ facts: [node('a', ack(1_000)), node('b', ack(2_000))], nowMs: END }),
    kind: 'fail',
    rules: ['health.samples'],
  },
  {
    name: 'too few samples during the soak is no failure yet',
    input: input({ facts: healthyFleet({ requests: 50 }, { requests: 50 }), nowMs: 100_000 }),
    kind: 'wait',
  },
  {
    name: 'too few candidate samples at the end fails health.samples with the count',
    input: input({ facts: healthyFleet({ requests: 90 }), nowMs: END }),
    kind: 'fail',
    rules: ['health.samples'],
    check: (v) => assert.deepEqual(v.kind === 'fail' && v.failures[0], { rule: 'health.samples', observed: 180, limit: 200 }),
  },
  {
    name: 'after a control-plane restart, missing data at the soak end waits for the resume grace',
    input: input({ facts: healthyFleet({ requests: 90 }), nowMs: END, verdictNotBeforeMs: END + 30_000 }),
    kind: 'wait',
    check: (v) => assert.deepEqual(v.kind === 'wait' && [v.phase, v.untilMs], ['soak', END + 30_000]),
  },
  {
    name: 'after the resume grace, missing data fails as usual',
    input: input({ facts: healthyFleet({ requests: 90 }), nowMs: END + 30_000, verdictNotBeforeMs: END + 30_000 }),
    kind: 'fail',
    rules: ['health.samples'],
  },
  {
    name: 'the resume grace never holds back a rule that fails with enough data',
    input: input({ facts: healthyFleet({ local: 500 }), nowMs: END, verdictNotBeforeMs: END + 30_000 }),
    kind: 'fail',
    rules: ['health.local_5xx.ratio', 'health.local_5xx.increase'],
  },
  {
    name: 'a missing baseline fails at the end even with a healthy candidate',
    input: input({ facts: healthyFleet().slice(0, 2), nowMs: END }),
    kind: 'fail',
    rules: ['health.samples'],
  },
  {
    name: 'windows that began before the soak are not evidence',
    input: input({ facts: healthyFleet({ from: 1_500 }, { from: 1_500 }), nowMs: END }),
    kind: 'fail',
    rules: ['health.samples'],
  },
  {
    name: 'windows of another generation are not the candidate',
    input: input({ facts: healthyFleet({ seq: 6 }), nowMs: END }),
    kind: 'fail',
    rules: ['health.samples'],
  },
  {
    name: 'a window with more 5xx than requests is left out (missing data)',
    input: input({ facts: healthyFleet({ requests: 150, local: 200 }), nowMs: END }),
    kind: 'fail',
    rules: ['health.samples'],
  },
  {
    name: 'local 5xx above the absolute ratio fails early, during the soak, with both local rules',
    input: input({ facts: healthyFleet({ local: 30 }), nowMs: 100_000 }),
    kind: 'fail',
    rules: ['health.local_5xx.ratio', 'health.local_5xx.increase'],
    check: (v) => assert.equal(v.kind === 'fail' && v.failures[0]?.observed, 0.03),
  },
  {
    name: 'local 5xx under the absolute ratio but too far above the baseline fails the increase only',
    input: input({ facts: healthyFleet({ local: 9 }, { local: 3 }), nowMs: END }),
    kind: 'fail',
    rules: ['health.local_5xx.increase'],
    check: (v) => assert.deepEqual(v.kind === 'fail' && v.failures[0], { rule: 'health.local_5xx.increase', observed: 0.006, limit: 0.005 }),
  },
  {
    name: 'a candidate as bad as a bad baseline passes the relative rule (and the absolute one when under it)',
    input: input({ facts: healthyFleet({ upstream: 40 }, { upstream: 40 }), nowMs: END }),
    kind: 'pass',
  },
  {
    name: 'upstream 5xx above 5 % fails its absolute rule even when the baseline is as bad',
    input: input({ facts: healthyFleet({ upstream: 60 }, { upstream: 60 }), nowMs: END }),
    kind: 'fail',
    rules: ['health.upstream_5xx.ratio'],
  },
  {
    name: 'p99 above max_ms fails health.p99.max (and the factor)',
    input: input({ facts: healthyFleet({ bucket: 10000 }), nowMs: 100_000 }),
    kind: 'fail',
    rules: ['health.p99.max', 'health.p99.factor'],
  },
  {
    name: 'p99 twice the baseline and 50 ms above it fails health.p99.factor',
    input: input({ facts: healthyFleet({ bucket: 100 }, { bucket: 50 }), nowMs: END }),
    kind: 'fail',
    rules: ['health.p99.factor'],
    check: (v) => assert.deepEqual(v.kind === 'fail' && v.failures[0], { rule: 'health.p99.factor', observed: 99.5, limit: 49.75 * 1.5 }),
  },
  {
    name: 'p99 twice the baseline but only 5 ms above it is noise: pass',
    input: input({ facts: healthyFleet({ bucket: 10 }, { bucket: 5 }), nowMs: END }),
    kind: 'pass',
  },
  {
    name: 'requests counted but no usable histogram: p99 is missing data at the end',
    input: input({ facts: healthyFleet({ latency: { boundsMs: [10, 5], counts: [1, 1, 1] } }), nowMs: END }),
    kind: 'fail',
    rules: ['health.p99.missing'],
    check: (v) => assert.equal(v.numbers.health?.candidate.droppedWindows, 2),
  },
  {
    name: 'the baseline includes the LKG share of in-node canaries on cohort nodes',
    input: input({
      facts: [
        node('a', ack(1_000), [win(), win({ seq: LKG })]),
        node('b', ack(2_000), [win(), win({ seq: LKG })]),
      ],
      nowMs: END,
    }),
    kind: 'pass',
    check: (v) => assert.equal(v.numbers.health?.baseline.nodes, 2),
  },
  // operator and policy shortcuts
  {
    name: 'a promoted stage passes once the ACK gates pass, without health data',
    input: input({ promoted: true, facts: [node('a', ack(1_000)), node('b', ack(2_000))], nowMs: 3_000 }),
    kind: 'pass',
    check: (v) => assert.equal(v.numbers.health, null),
  },
  {
    name: 'a promoted stage still waits for the ACK quorum',
    input: input({ promoted: true, facts: [node('a', ack(1_000)), node('b', none)], nowMs: 3_000 }),
    kind: 'wait',
    check: (v) => assert.equal(v.kind === 'wait' && v.phase, 'acks'),
  },
  {
    name: 'a promoted stage still fails on a NACK',
    input: input({ promoted: true, facts: [node('a', ack(1_000)), node('b', nack(2_000))], nowMs: 3_000 }),
    kind: 'fail',
    rules: ['nack.budget'],
  },
  {
    name: 'a stage with soak 0 has no health gate: pass at the quorum',
    input: input({ soakMs: 0, facts: [node('a', ack(1_000)), node('b', ack(2_000))], nowMs: 2_000 }),
    kind: 'pass',
  },
];

describe('evaluateStage', () => {
  for (const c of cases) {
    it(c.name, () => {
      const v = evaluateStage(c.input);
      assert.equal(v.kind, c.kind, JSON.stringify(v));
      if (c.rules !== undefined) assert.deepEqual(rules(v), c.rules);
      c.check?.(v);
    });
  }

  it('is a function of its input: the same facts give the same verdict', () => {
    assert.deepEqual(evaluateStage(input({ nowMs: END })), evaluateStage(input({ nowMs: END })));
  });
});
