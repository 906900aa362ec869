/**
 * The control-plane PROCESS resumes a live staged rollout from its SQLite file: a rollout is
 * started on the file in-process (the nodes' facts go through the real recorder), then the real
 * control plane starts on it, is SIGKILLed and starts again. Each start logs one
 * `resumed_after_restart` in the same stage, never a second `stage_started`, and carries out the
 * outbox (nothing left pending). The REST/CLI surface for starting rollouts is wired elsewhere;
 * this covers main.ts's driver wiring.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DriverKit, manualScheduler, SCOPE } from '../../controlplane/src/rollout/rollout-driver-kit.ts';
import { DEFAULT_ROLLOUT_POLICY, GATE_DEFAULTS, type RolloutPolicy } from '../../controlplane/src/rollout/rollout-policy.ts';
import { ControlPlane } from './harness/planes.ts';

const dir = mkdtempSync(join(tmpdir(), 'spooky-rollout-resume-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const POLICY: RolloutPolicy = {
  ...DEFAULT_ROLLOUT_POLICY,
  stages: [
    { name: 'canary', labels: { role: 'canary' }, percent: 100, min_nodes: 1, soak_ms: 600_000 },
    { name: 'fleet', labels: {}, percent: 100, min_nodes: 1, soak_ms: 0 },
  ],
  gates: { ...GATE_DEFAULTS, ack_timeout_ms: 600_000 },
};

function stored(id: string): { kinds: string[]; stage: number; status: string; pending: number } {
  const kit = new DriverKit(dir, 'spooky', manualScheduler, Date.now());
  try {
    const row = kit.store.rollouts.get(id);
    assert.ok(row);
    return {
      kinds: row.state.log.map((d) => `${d.stage}:${d.kind}`),
      stage: row.state.stage.index,
      status: row.status,
      pending: kit.store.rollouts.pendingEffects().length,
    };
  } finally {
    kit.store.close();
  }
}

describe('control-plane process: a live rollout survives start and SIGKILL', () => {
  it('resumes in the same stage on every start, carries out the outbox, counts no driver error', async () => {
    const prep = new DriverKit(dir, 'spooky', manualScheduler, Date.now());
    let id: string;
    try {
      prep.core.rolloutDriver.start();
      prep.converge();
      const g2 = prep.generation(9002);
      id = prep.core.rollouts.start({ scope: SCOPE, seq: g2.seq, policy: POLICY, actor: 'tester' }).id;
      prep.ack(['c1'], g2);
    } finally {
      prep.close();
    }
    assert.deepEqual(stored(id).kinds, ['0:started', '0:stage_started']);

    let cp = await ControlPlane.start(dir);
    try {
      const first = stored(id);
      assert.deepEqual(first.kinds, ['0:started', '0:stage_started', '0:resumed_after_restart']);
      assert.equal(first.pending, 0, 'the restart effects were carried out before serving');
      await cp.proc.kill();
      cp = await ControlPlane.start(dir);
      const second = stored(id);
      assert.deepEqual(second.kinds, ['0:started', '0:stage_started', '0:resumed_after_restart', '0:resumed_after_restart']);
      assert.deepEqual([second.stage, second.status, second.pending], [0, 'running', 0]);
      const metrics = await cp.api<string>('GET', '/metrics');
      assert.equal(metrics.status, 200);
      assert.match(metrics.body, /^spooky_cp_rollout_driver_errors 0$/m);
    } finally {
      await cp.proc.stop();
    }
  });
});
