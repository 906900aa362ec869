/**
 * Health state survives generation swaps: compileGeneration + LongLivedState.retain with fake
 * transports, a fake prober and a manual clock.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { parseConfig } from '@spooky/config';
import { compileGeneration } from '../compile/compile-generation.ts';
import type { BackendTransport } from '../http/backend-transport.ts';
import type { Generation } from '../runtime/generation.ts';
import { LongLivedState } from '../runtime/long-lived-state.ts';
import { fakeProberFactory } from './testing/fake-prober.ts';
import { ManualScheduler } from './testing/manual-scheduler.ts';

const A = 'http://127.0.0.1:1001';
const B = 'http://127.0.0.1:1002';
const CHECK = { interval: 100, timeout_ms: 50, failure_threshold: 2, success_threshold: 1, cooldown_ms: 500 };

const fakeTransport = (): BackendTransport => ({
  protocol: 'h1',
  forward: () => Promise.reject(new Error('not used')),
  close: () => Promise.resolve(),
});

function compile(state: LongLivedState, backends: Array<{ id: string; address: string; health_check?: object }>): Generation {
  const parsed = parseConfig({
    version: 1,
    listen: { address: '127.0.0.1', port: 9889, tls: { cert: '/dev/null', key: '/dev/null' } },
    upstream: { app: { route: { path_prefix: '/' }, backends } },
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  const compiled = compileGeneration(parsed.config, null, state);
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.issues));
  return compiled.generation;
}

describe('health across generation swaps', () => {
  let scheduler: ManualScheduler;
  let probers: ReturnType<typeof fakeProberFactory>;
  let state: LongLivedState;

  beforeEach(() => {
    scheduler = new ManualScheduler();
    probers = fakeProberFactory();
    state = new LongLivedState({ createTransport: fakeTransport, health: { createProber: probers.factory, scheduler, random: () => 0 } });
  });
  afterEach(() => state.close());

  it('keeps health and probes of a backend both generations name; drops them when one does not', async () => {
    const g1 = compile(state, [
      { id: 'a', address: A, health_check: CHECK },
      { id: 'b', address: B },
    ]);
    await state.retain(g1);
    assert.equal(state.health.activeCheckers(), 1);
    const prober = probers.latest(A);
    assert.ok(prober);
    prober.result = { kind: 'response', status: 500 };
    await scheduler.advance(200);
    assert.equal(g1.health.isAvailable('app', A), false);
    for (let i = 0; i < 3; i++) g1.health.reportTraffic('app', B, { kind: 'error', code: 'upstream_connect_failed' });
    assert.equal(g1.health.isAvailable('app', B), false);

    // Same backends (b's weight changed): state and the running probe loop are kept.
    const g2 = compile(state, [
      { id: 'a', address: A, health_check: CHECK },
      { id: 'b', address: B, weight: 5 } as { id: string; address: string },
    ]);
    await state.retain(g2);
    assert.equal(g2.health.isAvailable('app', A), false);
    assert.equal(g2.health.isAvailable('app', B), false);
    assert.equal(probers.built.length, 1, 'the probe pool was not rebuilt');
    assert.equal(prober.closed, false);
    assert.equal(state.health.activeCheckers(), 1);

    // A third generation without A: its checker, timers and probe pool go; B's ejection stays.
    const g3 = compile(state, [{ id: 'b', address: B }]);
    await state.retain(g3);
    assert.equal(state.health.activeCheckers(), 0);
    assert.equal(prober.closed, true);
    assert.deepEqual(
      state.health.snapshot().map((b) => [b.backend, b.status]),
      [['b', 'unhealthy']],
    );
    const calls = prober.calls.length;
    await scheduler.advance(60_000);
    assert.equal(prober.calls.length, calls, 'no probe after the drop');
    assert.equal(scheduler.pendingCount(), 0, 'every timer cleared (B re-admitted, no probes)');
    assert.equal(g3.health.isAvailable('app', B), true);
  });

  it('a generation that is compiled but never retained starts no probes', () => {
    compile(state, [{ id: 'a', address: A, health_check: CHECK }]);
    assert.equal(state.health.activeCheckers(), 0);
    assert.equal(probers.built.length, 0);
  });
});
