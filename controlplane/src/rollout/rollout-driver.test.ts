/**
 * The rollout driver and service over a real SQLite file with a manual clock: facts come in
 * through the real NodeRecorder and HealthSink (what distribution calls), effects go out to the
 * real ActiveService, lifecycle and rollout stores.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { GenerationRef } from '../distribution/ports.ts';
import { ScopeFrozen } from './rollout-control.ts';
import { RolloutDriver } from './rollout-driver.ts';
import { DriverKit, FLEET, manualScheduler, QueueScheduler, SCOPE } from './rollout-driver-kit.ts';
import { StoreRolloutFacts } from './rollout-facts.ts';
import { reduce } from './rollout-machine.ts';
import { DEFAULT_ROLLOUT_POLICY, GATE_DEFAULTS, type RolloutPolicy } from './rollout-policy.ts';
import { LiveRolloutConflict } from './rollout-ports.ts';
import { RolloutService } from './rollout-service.ts';

const dir = mkdtempSync(join(tmpdir(), 'spooky-driver-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const SOAK = 10_000;
const POLICY: RolloutPolicy = {
  ...DEFAULT_ROLLOUT_POLICY,
  stages: [
    { name: 'canary', labels: { role: 'canary' }, percent: 100, min_nodes: 1, soak_ms: SOAK },
    { name: 'quarter', labels: {}, percent: 25, min_nodes: 1, soak_ms: SOAK },
    { name: 'half', labels: {}, percent: 50, min_nodes: 1, soak_ms: SOAK },
    { name: 'fleet', labels: {}, percent: 100, min_nodes: 1, soak_ms: 0 },
  ],
  gates: { ...GATE_DEFAULTS, ack_timeout_ms: 5_000, health: { ...GATE_DEFAULTS.health, min_requests: 100 } },
  resume_grace_ms: 1_000,
};

function kitWith(name: string): { kit: DriverKit; g1: GenerationRef } {
  const kit = new DriverKit(dir, name);
  kit.core.rolloutDriver.start();
  return { kit, g1: kit.converge() };
}

function start(kit: DriverKit, target: GenerationRef, policy: RolloutPolicy = POLICY): string {
  return kit.core.rollouts.start({ scope: SCOPE, seq: target.seq, policy, actor: 'tester' }).id;
}

/** The current stage's nodes ACK, report healthy windows through the soak, and the stage is judged. */
function passStage(kit: DriverKit, id: string, lkg: GenerationRef, target: GenerationRef): void {
  const driver = kit.core.rolloutDriver;
  const s = driver.state(id);
  assert.ok(s);
  const soak = POLICY.stages[s.stage.index]!.soak_ms;
  kit.advance(100);
  kit.ack(s.stage.added, target);
  if (soak > 0) {
    kit.advance(1_000);
    kit.report(lkg, target, s.cohort);
    assert.equal(driver.observe(id)?.state.lastEvaluation?.kind, 'wait', 'soaking');
    kit.advance(soak);
    kit.report(lkg, target, s.cohort);
  }
  driver.observe(id, 'facts');
}

function kinds(kit: DriverKit, id: string): string[] {
  return kit.core.rollouts.get(id)!.decisions.map((d) => `${d.stage}:${d.kind}`);
}

describe('RolloutDriver + RolloutService (real SQLite, manual clock)', () => {
  it('a good generation: candidate for stage 0 only, stages advance on ACKs and healthy windows, activate moves the pointer, assignments end null', () => {
    const { kit, g1 } = kitWith('good');
    try {
      const g2 = kit.generation(9002);
      const id = start(kit, g2);
      const a = kit.core.assignments;
      assert.equal(a.assignment(SCOPE, 'c1')?.kind, 'candidate');
      assert.equal(a.assignment(SCOPE, 'c1')?.seq, g2.seq);
      for (const n of ['n1', 'n2', 'n3', 'n4']) assert.equal(a.assignment(SCOPE, n), null, `${n} is not in stage 0`);
      assert.deepEqual(kit.assignmentEvents, [['c1']], 'the push-candidate effect told c1 to re-decide');

      passStage(kit, id, g1, g2);
      const s1 = kit.core.rolloutDriver.state(id)!;
      assert.equal(s1.stage.index, 1);
      assert.deepEqual(a.assignment(SCOPE, 'c1'), { kind: 'serve', seq: g2.seq }, 'a passed stage serves the target');
      for (const n of s1.stage.added) assert.equal(a.assignment(SCOPE, n)?.kind, 'candidate');

      passStage(kit, id, g1, g2);
      passStage(kit, id, g1, g2);
      assert.equal(kit.core.rolloutDriver.state(id)?.stage.index, 3);
      passStage(kit, id, g1, g2);

      const view = kit.core.rollouts.get(id)!;
      assert.equal(view.status, 'promoted');
      assert.equal(view.final, true);
      assert.equal(kit.core.active.getActive(SCOPE)?.seq, g2.seq, 'the activate effect moved the pointer');
      assert.equal(kit.core.active.getActive(SCOPE)?.actor, `rollout:${id}`);
      for (const n of FLEET) assert.equal(a.assignment(SCOPE, n.id), null, `${n.id} follows the pointer`);
      assert.equal(kit.store.rollouts.pendingEffects().length, 0);
      assert.equal(kit.store.rollouts.freezeState(SCOPE).rollbackStreak, 0);
      assert.deepEqual(
        view.decisions.filter((d) => d.kind === 'stage_started').map((d) => d.stage),
        [0, 1, 2, 3],
        'every stage once, in order',
      );
      assert.deepEqual(
        view.stages.map((s) => [s.name, s.state, s.nodes.length]),
        [
          ['canary', 'done', 1],
          ['quarter', 'done', 1],
          ['half', 'done', 1],
          ['fleet', 'done', 2],
        ],
      );
      const actions = kit.store.db.prepare("SELECT action FROM audit WHERE action LIKE 'rollout.%' OR actor LIKE 'rollout:%'").all() as { action: string }[];
      assert.deepEqual(
        actions.map((r) => r.action),
        ['rollout.start', 'active.activate'],
      );
      assert.equal(kit.core.rolloutDriver.errors, 0);
    } finally {
      kit.close();
    }
  });

  it('bad windows roll back: generation failed, streak 1; a second in a row freezes the scope until unfreeze', () => {
    const { kit, g1 } = kitWith('bad');
    try {
      const seen: string[] = [];
      kit.core.rollouts.onDecision((r, d) => seen.push(`${r.id}:${d.kind}`));
      for (const [k, port] of [9002, 9003].entries()) {
        const target = kit.generation(port);
        const id = start(kit, target);
        kit.advance(100);
        kit.ack(['c1'], target);
        assert.equal(kit.store.nodes.getNode('c1')?.serving?.seq, g1.seq, 'a candidate ACK leaves what the node serves');
        kit.advance(1_000);
        kit.report(g1, target, ['c1'], 30);
        kit.core.rolloutDriver.observe(id, 'facts');
        const view = kit.core.rollouts.get(id)!;
        assert.equal(view.status, 'rolled_back');
        const failed = view.decisions.find((d) => d.kind === 'gate_failed');
        assert.ok(failed?.failures?.some((f) => f.rule === 'health.local_5xx.ratio' && f.observed === 0.3), JSON.stringify(failed));
        assert.match(kit.store.generations.getGeneration(SCOPE, target.seq)?.failedReason ?? '', /health\.local_5xx/);
        assert.equal(kit.core.assignments.assignment(SCOPE, 'c1'), null, 'c1 follows the pointer (the LKG) again');
        assert.equal(kit.core.active.getActive(SCOPE)?.seq, g1.seq, 'the pointer never moved');
        assert.equal(kit.core.rollouts.freezeState(SCOPE).rollbackStreak, k + 1);
        assert.ok(seen.includes(`${id}:rolled_back`), 'decisions are published after the commit');
      }
      const frozen = kit.core.rollouts.freezeState(SCOPE);
      assert.equal(frozen.frozen, true);
      const g4 = kit.generation(9004);
      assert.throws(() => start(kit, g4), ScopeFrozen);
      kit.core.rollouts.unfreeze(SCOPE, 'tester', 'fixed the backend');
      assert.deepEqual(
        [kit.core.rollouts.freezeState(SCOPE).frozen, kit.core.rollouts.freezeState(SCOPE).rollbackStreak],
        [false, 0],
      );
      const id = start(kit, g4);
      assert.equal(kit.core.rollouts.get(id)?.status, 'running');
      assert.throws(() => start(kit, kit.generation(9005)), LiveRolloutConflict, 'one live rollout per scope');
    } finally {
      kit.close();
    }
  });

  it('a restart mid-stage-2 resumes in stage 2 (no second stage_started), and stage 3 follows', () => {
    const { kit, g1 } = kitWith('restart');
    try {
      const g2 = kit.generation(9002);
      const id = start(kit, g2);
      passStage(kit, id, g1, g2);
      passStage(kit, id, g1, g2);
      const before = kit.core.rolloutDriver.state(id)!;
      assert.equal(before.stage.index, 2);
      kit.advance(500);
      kit.reopen();
      const after = kit.core.rolloutDriver.state(id)!;
      assert.equal(after.stage.index, 2);
      assert.deepEqual(after.stage.added, before.stage.added);
      assert.equal(after.stage.startedAtMs, before.stage.startedAtMs);
      for (const n of before.stage.added) assert.equal(kit.core.assignments.assignment(SCOPE, n)?.kind, 'candidate', 'desired state re-asserted');
      passStage(kit, id, g1, g2);
      const log = kinds(kit, id);
      assert.equal(log.filter((k) => k === '2:stage_started').length, 1);
      assert.ok(log.includes('2:resumed_after_restart'));
      assert.ok(log.indexOf('2:resumed_after_restart') < log.indexOf('2:stage_passed'));
      assert.equal(log.at(-1), '3:stage_started');
      assert.equal(kit.core.rolloutDriver.state(id)?.stage.index, 3);
    } finally {
      kit.close();
    }
  });

  it('effects saved but not carried out (a crash) are carried out at the next start', () => {
    const { kit } = kitWith('crash');
    try {
      const g2 = kit.generation(9002);
      const id = start(kit, g2);
      // What a crash between the save and the outbox leaves: the rollout failed its ACK gate.
      kit.core.rolloutDriver.stop();
      const stored = kit.store.rollouts.get(id)!.state;
      const step = reduce(stored, { type: 'tick', nowMs: kit.nowMs + 60_000, fleet: [], facts: [] });
      assert.equal(step.state.status, 'rolled_back');
      kit.store.rollouts.save(id, step.state, step.state.log.slice(stored.log.length), step.effects);
      assert.ok(kit.store.rollouts.pendingEffects().length > 0);
      kit.store.close();
      kit.open();
      const emitted: string[] = [];
      kit.core.rollouts.onDecision((_r, d) => emitted.push(d.kind));
      kit.core.rolloutDriver.start();
      assert.equal(kit.store.rollouts.pendingEffects().length, 0);
      assert.match(kit.store.generations.getGeneration(SCOPE, g2.seq)?.failedReason ?? '', /ack\.quorum/);
      assert.equal(kit.store.rollouts.freezeState(SCOPE).rollbackStreak, 1);
      assert.deepEqual(emitted, ['gate_failed', 'rolled_back']);
      assert.deepEqual(kit.assignmentEvents.at(-1), ['c1'], 'the rollback told the cohort to re-decide');
      assert.equal(kit.core.assignments.assignment(SCOPE, 'c1'), null);
    } finally {
      kit.close();
    }
  });

  it('a wedged node is unknown after the ACK deadline and the rollout goes on as the quorum allows', () => {
    const { kit, g1 } = kitWith('wedged');
    try {
      const policy: RolloutPolicy = {
        ...POLICY,
        stages: [{ name: 'fleet', labels: {}, percent: 100, min_nodes: 1, soak_ms: SOAK }],
        gates: { ...POLICY.gates, ack_quorum: 0.8 },
      };
      const g2 = kit.generation(9002);
      const id = start(kit, g2, policy);
      const live = ['c1', 'n1', 'n2', 'n3'];
      kit.advance(100);
      kit.ack(live, g2);
      kit.advance(1_000);
      kit.report(g1, g2, live);
      const soaking = kit.core.rolloutDriver.observe(id)!.state.lastEvaluation!;
      assert.equal(soaking.kind, 'wait');
      assert.deepEqual([soaking.numbers.acks.silent, soaking.numbers.acks.silentAre], [['n4'], 'pending']);
      kit.advance(SOAK);
      kit.report(g1, g2, live);
      kit.core.rolloutDriver.observe(id);
      const view = kit.core.rollouts.get(id)!;
      assert.equal(view.status, 'promoted');
      const passed = view.decisions.find((d) => d.kind === 'stage_passed');
      assert.deepEqual([passed?.numbers?.acks.silent, passed?.numbers?.acks.silentAre], [['n4'], 'unknown']);
      assert.equal(kit.core.active.getActive(SCOPE)?.seq, g2.seq);
    } finally {
      kit.close();
    }
  });

  it('refuses a start the fleet is not ready for, and operator events are audited or refused', () => {
    const { kit, g1 } = kitWith('checks');
    try {
      assert.throws(() => kit.core.rollouts.start({ scope: SCOPE, seq: g1.seq, actor: 't' }), { name: 'RolloutTargetInvalid', code: 'already_active' });
      assert.throws(() => kit.core.rollouts.start({ scope: SCOPE, seq: 99, actor: 't' }), { name: 'RolloutTargetInvalid', code: 'generation_not_found' });
      const g2 = kit.generation(9002);
      kit.nack('n1', g2, 'compile', g1);
      assert.throws(() => start(kit, g2), { name: 'RolloutTargetInvalid', code: 'generation_failed' });
      const g3 = kit.generation(9003);
      kit.core.recorder.reported('n2', 'n2-boot', g3, 'local-file', kit.now());
      assert.throws(() => start(kit, g3), (err: unknown) => (err as { name: string; nodes: string[] }).name === 'FleetNotConverged' && (err as { nodes: string[] }).nodes.join() === 'n2');
      kit.core.recorder.reported('n2', 'n2-boot', g1, 'control-plane', kit.now());
      assert.equal(kit.core.rollouts.defaultStrategy(SCOPE), 'immediate', 'no stored policy');
      const id = kit.core.rollouts.start({ scope: SCOPE, seq: g3.seq, actor: 't' }).id;
      assert.equal(kit.core.rollouts.get(id)?.policyVersion, 0, 'the default policy');
      assert.equal(kit.core.rollouts.operate(id, 'resume', 't').refused, 'not_paused');
      assert.equal(kit.core.rollouts.operate(id, 'pause', 't', 'lunch').rollout.status, 'paused');
      const g4 = kit.generation(9004);
      const next = kit.core.rollouts.start({ scope: SCOPE, seq: g4.seq, actor: 't', abortLive: true });
      assert.equal(kit.core.rollouts.get(id)?.status, 'aborted');
      assert.equal(kit.core.rollouts.live(SCOPE)?.id, next.id);
      assert.equal(kit.core.rollouts.operate(id, 'abort', 't').refused, 'finished');
      const actions = (kit.store.db.prepare("SELECT action FROM audit WHERE action LIKE 'rollout.%'").all() as { action: string }[]).map((r) => r.action);
      assert.deepEqual(actions, ['rollout.start', 'rollout.pause', 'rollout.abort', 'rollout.start']);
    } finally {
      kit.close();
    }
  });

  it('waitFinished resolves when the rollout becomes final, or with the current view at the timeout', async () => {
    const { kit } = kitWith('wait');
    try {
      const g2 = kit.generation(9002);
      const id = start(kit, g2);
      const timedOut = await kit.core.rollouts.waitFinished(id, 10);
      assert.equal(timedOut.final, false);
      const waiting = kit.core.rollouts.waitFinished(id, 60_000);
      kit.core.rollouts.operate(id, 'abort', 't');
      const done = await waiting;
      assert.equal(done.status, 'aborted');
      const ac = new AbortController();
      const g3 = kit.generation(9003);
      const id3 = start(kit, g3);
      const aborted = kit.core.rollouts.waitFinished(id3, 60_000, ac.signal);
      ac.abort();
      assert.equal((await aborted).final, false);
    } finally {
      kit.close();
    }
  });

  it('timers: one tick at the earliest wake-at (at most maxSleepMs away); facts from the recorder coalesce per scope', () => {
    const scheduler = new QueueScheduler();
    const kit = new DriverKit(dir, 'timers', scheduler);
    try {
      kit.core.rolloutDriver.start();
      const g1 = kit.converge();
      assert.deepEqual(scheduler.pending(), [], 'no live rollout: no timer, and facts of the scope schedule nothing');
      const g2 = kit.generation(9002);
      const id = start(kit, g2);
      const ticks = scheduler.pending();
      assert.deepEqual(
        ticks.map((t) => t.delayMs),
        [POLICY.gates.ack_timeout_ms],
        'the ACK deadline (5 s, also maxSleepMs)',
      );
      kit.ack(['c1'], g2);
      kit.ack(['c1'], g2);
      const facts = scheduler.pending().filter((t) => !ticks.includes(t));
      assert.equal(facts.length, 1, 'two facts, one coalesced observation');
      assert.equal(facts[0]?.delayMs, 0);
      scheduler.run(facts[0]!);
      const evaluation = kit.core.rolloutDriver.state(id)?.lastEvaluation;
      assert.equal(evaluation?.kind, 'wait');
      assert.equal(evaluation?.numbers.acks.acked, 1);
      kit.report(g1, g2, ['c1']);
      const next = scheduler.pending().filter((t) => !ticks.includes(t));
      assert.deepEqual(
        next.map((t) => t.delayMs),
        [200],
        'within 200 ms of the last facts observation, the next one waits',
      );
      kit.advance(60_000);
      scheduler.run(ticks[0]!);
      assert.equal(kit.core.rollouts.get(id)?.status, 'rolled_back', 'the tick judged the soak: too few requests');
      assert.equal(kit.core.rolloutDriver.errors, 0);
    } finally {
      kit.close();
    }
  });

  it('a restart in a soak keeps the soak: the windows reported before it still count', () => {
    const { kit, g1 } = kitWith('soak-restart');
    try {
      const g2 = kit.generation(9002);
      const id = start(kit, g2);
      kit.advance(100);
      kit.ack(['c1'], g2);
      kit.advance(1_000);
      kit.report(g1, g2, ['c1']);
      assert.equal(kit.core.rolloutDriver.observe(id)?.state.lastEvaluation?.kind, 'wait');
      kit.reopen();
      kit.advance(SOAK);
      kit.core.rolloutDriver.observe(id);
      const s = kit.core.rolloutDriver.state(id)!;
      assert.equal(s.stage.index, 1, 'stage 0 passed on the windows stored before the restart');
      const passed = s.log.find((d) => d.kind === 'stage_passed');
      assert.equal(passed?.numbers?.health?.candidate.requests, 100);
    } finally {
      kit.close();
    }
  });

  it("a node of an earlier stage whose in-node canary falls back (NACK phase canary after its ACK) rolls the cohort back", () => {
    const { kit, g1 } = kitWith('canary-nack');
    try {
      const g2 = kit.generation(9002);
      const id = start(kit, g2);
      passStage(kit, id, g1, g2);
      assert.equal(kit.core.rolloutDriver.state(id)?.stage.index, 1);
      kit.advance(100);
      kit.nack('c1', g2, 'canary', g1);
      kit.core.rolloutDriver.observe(id, 'facts');
      const view = kit.core.rollouts.get(id)!;
      assert.equal(view.status, 'rolled_back');
      const failed = view.decisions.find((d) => d.kind === 'gate_failed');
      assert.deepEqual(failed?.failures?.map((f) => [f.rule, f.nodes]), [['nack.budget', ['c1']]]);
      for (const n of view.cohort) assert.equal(kit.core.assignments.assignment(SCOPE, n), null);
    } finally {
      kit.close();
    }
  });

  it('a node that joins a short stage before its ACK deadline is added (cohort_grown) and told to hold the candidate', () => {
    const { kit, g1 } = kitWith('grow');
    try {
      const policy: RolloutPolicy = {
        ...POLICY,
        stages: [{ ...POLICY.stages[0]!, min_nodes: 2 }, ...POLICY.stages.slice(1)],
      };
      const g2 = kit.generation(9002);
      const id = start(kit, g2, policy);
      assert.deepEqual(kit.core.rolloutDriver.state(id)?.stage.added, ['c1']);
      kit.advance(100);
      kit.core.recorder.connected({
        nodeId: 'c2',
        bootId: 'c2-boot',
        scope: SCOPE,
        labels: { role: 'canary' },
        schemaMin: 1,
        schemaMax: 1,
        build: 'test',
        serving: g1,
        source: 'control-plane',
        at: kit.now(),
      });
      kit.core.rolloutDriver.observe(id, 'facts');
      const s = kit.core.rolloutDriver.state(id)!;
      assert.deepEqual(s.stage.added, ['c1', 'c2']);
      assert.ok(kinds(kit, id).includes('0:cohort_grown'));
      assert.equal(kit.core.assignments.assignment(SCOPE, 'c2')?.kind, 'candidate');
      assert.deepEqual(kit.assignmentEvents.at(-1), ['c2']);
    } finally {
      kit.close();
    }
  });

  it('an effect that throws is logged, counted and stays pending; the promoted cohort keeps serving the target until it succeeds', () => {
    const { kit } = kitWith('flaky');
    try {
      const logged: string[] = [];
      let failures = 1;
      const clock = { now: () => kit.now() };
      const driver = new RolloutDriver({
        repo: kit.store.rollouts,
        facts: new StoreRolloutFacts({
          nodes: kit.store.nodes,
          history: kit.store.nodeHistory,
          health: kit.store.healthWindows,
          digestOf: (scope, seq) => kit.store.generations.getGeneration(scope, seq)?.digest ?? null,
        }),
        actions: {
          activate: (scope, seq, actor, reason) => {
            if (failures-- > 0) throw new Error('database is locked');
            kit.core.active.activate(scope, seq, kit.core.active.getActive(scope)?.version ?? 0, { actor, reason });
          },
          markFailed: () => {},
        },
        clock,
        scheduler: manualScheduler,
        logger: { error: (_obj, msg) => logged.push(msg) },
      });
      const service = new RolloutService({
        repo: kit.store.rollouts,
        driver,
        generations: kit.store.generations,
        active: kit.core.active,
        nodes: kit.store.nodes,
        audit: kit.store.audit,
        clock,
      });
      const g2 = kit.generation(9002);
      const policy: RolloutPolicy = { ...POLICY, stages: [{ name: 'fleet', labels: {}, percent: 100, min_nodes: 1, soak_ms: 0 }] };
      const id = service.start({ scope: SCOPE, seq: g2.seq, policy, actor: 'tester' }).id;
      kit.ack(
        FLEET.map((n) => n.id),
        g2,
      );
      driver.observe(id, 'facts');
      assert.equal(service.get(id)?.status, 'promoted');
      assert.equal(driver.errors, 1);
      assert.deepEqual(logged, [`rollout driver: effect activate of rollout ${id} failed`]);
      assert.ok(kit.store.rollouts.pendingEffects().some((p) => p.effect.type === 'activate'));
      assert.deepEqual(driver.assignment(SCOPE, 'n1'), { kind: 'serve', seq: g2.seq }, 'no flap back to the LKG');
      driver.drain();
      assert.equal(kit.core.active.getActive(SCOPE)?.seq, g2.seq);
      assert.equal(kit.store.rollouts.pendingEffects().length, 0);
      assert.equal(driver.assignment(SCOPE, 'n1'), null);
    } finally {
      kit.close();
    }
  });
});
