import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  advanceHealth,
  classifyProbe,
  type HealthPolicy,
  type HealthState,
  type HealthVerdict,
  initialHealthState,
  observeHealth,
} from './health-state.ts';

const POLICY: HealthPolicy = { failureThreshold: 3, successThreshold: 2, cooldownMs: 1000 };

/** Feeds verdicts at the given times; returns the final state and every transition "from>to". */
function run(steps: ReadonlyArray<[HealthVerdict, number]>, policy = POLICY, start: HealthState = initialHealthState()) {
  let state = start;
  const seen: string[] = [];
  for (const [verdict, now] of steps) {
    const step = observeHealth(state, verdict, now, policy);
    state = step.state;
    for (const t of step.transitions) seen.push(`${t.from}>${t.to}:${t.reason}`);
  }
  return { state, seen };
}

describe('health state machine', () => {
  it('starts healthy', () => {
    assert.equal(initialHealthState().status, 'healthy');
  });

  it('turns unhealthy after exactly failure_threshold consecutive failures', () => {
    const two = run([['failure', 0], ['failure', 1]]);
    assert.equal(two.state.status, 'healthy');
    assert.equal(two.state.failures, 2);
    const three = run([['failure', 0], ['failure', 1], ['failure', 2]]);
    assert.equal(three.state.status, 'unhealthy');
    assert.equal(three.state.unhealthyUntil, 1002);
    assert.deepEqual(three.seen, ['healthy>unhealthy:failure_threshold']);
  });

  it('a success resets the consecutive failure count', () => {
    const r = run([['failure', 0], ['failure', 1], ['success', 2], ['failure', 3], ['failure', 4]]);
    assert.equal(r.state.status, 'healthy');
    assert.equal(r.state.failures, 2);
  });

  it('4xx-like neutral results change nothing, not even the counters', () => {
    const r = run([['failure', 0], ['failure', 1], ['neutral', 2], ['neutral', 3]]);
    assert.equal(r.state.status, 'healthy');
    assert.equal(r.state.failures, 2);
    const probing = run([['failure', 0], ['failure', 0], ['failure', 0], ['success', 1000], ['neutral', 1001]]);
    assert.equal(probing.state.status, 'probing');
    assert.equal(probing.state.successes, 1);
  });

  it('ignores successes (and failures) during the cooldown', () => {
    const down = run([['failure', 0], ['failure', 0], ['failure', 0]]);
    const r = run([['success', 10], ['success', 500], ['success', 999], ['failure', 999]], POLICY, down.state);
    assert.equal(r.state.status, 'unhealthy');
    assert.equal(r.state.unhealthyUntil, 1000, 'the cooldown is not extended');
    assert.deepEqual(r.seen, []);
  });

  it('moves to probing when the cooldown has elapsed, then healthy after success_threshold successes', () => {
    const down = run([['failure', 0], ['failure', 0], ['failure', 0]]).state;
    assert.equal(advanceHealth(down, 999).state.status, 'unhealthy');
    const probing = advanceHealth(down, 1000);
    assert.equal(probing.state.status, 'probing');
    assert.deepEqual(probing.transitions, [{ from: 'unhealthy', to: 'probing', reason: 'cooldown_elapsed' }]);
    const r = run([['success', 1000], ['success', 1100]], POLICY, down);
    assert.equal(r.state.status, 'healthy');
    assert.deepEqual(r.seen, ['unhealthy>probing:cooldown_elapsed', 'probing>healthy:success_threshold']);
    assert.equal(r.state.failures, 0);
  });

  it('a failure while probing makes it unhealthy again with a fresh cooldown', () => {
    const down = run([['failure', 0], ['failure', 0], ['failure', 0]]).state;
    const r = run([['success', 1200], ['failure', 1300]], POLICY, down);
    assert.equal(r.state.status, 'unhealthy');
    assert.equal(r.state.unhealthyUntil, 2300);
    assert.deepEqual(r.seen, ['unhealthy>probing:cooldown_elapsed', 'probing>unhealthy:failed_while_probing']);
  });

  it('threshold 1 and cooldown 0 flip at once', () => {
    const policy: HealthPolicy = { failureThreshold: 1, successThreshold: 1, cooldownMs: 0 };
    const r = run([['failure', 5], ['success', 5]], policy);
    assert.equal(r.state.status, 'healthy');
    assert.deepEqual(r.seen, ['healthy>unhealthy:failure_threshold', 'unhealthy>probing:cooldown_elapsed', 'probing>healthy:success_threshold']);
  });
});

describe('classifyProbe', () => {
  it('2xx/3xx success, 4xx neutral, 5xx/timeout/transport failure', () => {
    assert.equal(classifyProbe({ kind: 'response', status: 200 }).verdict, 'success');
    assert.equal(classifyProbe({ kind: 'response', status: 204 }).verdict, 'success');
    assert.equal(classifyProbe({ kind: 'response', status: 302 }).verdict, 'success');
    assert.equal(classifyProbe({ kind: 'response', status: 404 }).verdict, 'neutral');
    assert.equal(classifyProbe({ kind: 'response', status: 429 }).verdict, 'neutral');
    assert.equal(classifyProbe({ kind: 'response', status: 500 }).verdict, 'failure');
    assert.equal(classifyProbe({ kind: 'response', status: 503 }).verdict, 'failure');
    assert.deepEqual(classifyProbe({ kind: 'timeout' }), { verdict: 'failure', detail: 'timeout' });
    assert.deepEqual(classifyProbe({ kind: 'error', code: 'ECONNREFUSED' }), { verdict: 'failure', detail: 'transport ECONNREFUSED' });
  });
});
