/**
 * HealthHandle (health-handle.ts): the boolean the request path filters on follows the
 * monitor's string lookup in every state, ends an elapsed cooldown lazily like isAvailable,
 * and detaches (answering by key) when the backend stops being tracked.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HealthCheck } from '@spooky/config';
import { HealthMonitor, type HealthSpec, healthKey } from './health-monitor.ts';
import type { Scheduler } from './scheduler.ts';
import { fakeProberFactory } from './testing/fake-prober.ts';
import { ManualScheduler } from './testing/manual-scheduler.ts';

const TRANSPORT = { connectTimeoutMs: 1000, verifyCertificates: true, ca: null };
const CHECK: HealthCheck = { path: '/health', interval: 100, timeout_ms: 50, failure_threshold: 2, success_threshold: 1, cooldown_ms: 500 };
const A = 'http://127.0.0.1:1001';
const B = 'http://127.0.0.1:1002';

const spec = (address: string, check: HealthCheck | null): HealthSpec => ({ upstream: 'app', backendId: address.slice(-1), address, check, transport: TRANSPORT });
const specs = (...list: HealthSpec[]) => new Map(list.map((s) => [healthKey(s.upstream, s.address), s]));
const fail = (m: HealthMonitor, address: string, times: number) => {
  for (let i = 0; i < times; i++) m.reportTraffic('app', address, { kind: 'error', code: 'upstream_connect_failed' });
};

/** A clock the test moves by hand whose timers never fire (to see the lazy cooldown path). */
class FrozenTimers implements Scheduler {
  time = 0;
  now(): number {
    return this.time;
  }
  setTimer(): { cancel(): void } {
    return { cancel: () => undefined };
  }
}

describe('HealthHandle', () => {
  it('is available before tracking, follows passive ejection, and is stable across reconciles', async () => {
    const scheduler = new ManualScheduler();
    const monitor = new HealthMonitor({ createProber: fakeProberFactory().factory, scheduler, random: () => 0 });
    const a = monitor.handle('app', A);
    assert.equal(a.available, true, 'untracked (compiled, not yet retained)');
    assert.equal(monitor.handle('app', A), a, 'one handle per key');
    await monitor.reconcile(specs(spec(A, null), spec(B, null)));
    assert.equal(monitor.handle('app', A), a, 'tracking keeps the handle compile/ resolved');
    fail(monitor, A, 3);
    assert.equal(a.available, false);
    assert.equal(a.recheck(), false);
    await scheduler.advance(10_000);
    assert.equal(a.available, true, 'optimistic re-admission (timer)');
    await monitor.reconcile(specs(spec(A, null), spec(B, null)));
    assert.equal(monitor.handle('app', A), a, 'survives a reconcile naming it');
    await monitor.close();
  });

  it('ends an elapsed cooldown on recheck, as isAvailable does, before the timer fires', async () => {
    const clock = new FrozenTimers();
    const monitor = new HealthMonitor({ createProber: fakeProberFactory().factory, scheduler: clock, random: () => 0 });
    await monitor.reconcile(specs(spec(A, null)));
    const a = monitor.handle('app', A);
    fail(monitor, A, 3);
    clock.time = 9_999;
    assert.equal(a.available, false);
    assert.equal(a.recheck(), false);
    clock.time = 10_000;
    assert.equal(a.available, false, 'the flag waits for someone to look');
    assert.equal(a.recheck(), true);
    assert.equal(a.available, true);
    await monitor.close();
  });

  it('active checks: Probing is not available; a health_check added later changes the flag', async () => {
    const scheduler = new ManualScheduler();
    const probers = fakeProberFactory();
    const monitor = new HealthMonitor({ createProber: probers.factory, scheduler, random: () => 0 });
    await monitor.reconcile(specs(spec(A, CHECK)));
    const a = monitor.handle('app', A);
    const prober = probers.latest(A);
    assert.ok(prober);
    prober.result = { kind: 'response', status: 500 };
    await scheduler.advance(200);
    assert.equal(a.available, false);
    assert.equal(a.available, monitor.isAvailable('app', A));
    await monitor.reconcile(specs(spec(A, null)));
    assert.equal(monitor.handle('app', A), a);
    assert.equal(a.available, monitor.isAvailable('app', A));
    await monitor.close();
  });

  it('detaches when dropped: answers by key, and a re-added backend gets a new handle', async () => {
    const scheduler = new ManualScheduler();
    const monitor = new HealthMonitor({ createProber: fakeProberFactory().factory, scheduler, random: () => 0 });
    await monitor.reconcile(specs(spec(A, null), spec(B, null)));
    const b = monitor.handle('app', B);
    await monitor.reconcile(specs(spec(A, null)));
    assert.equal(b.available, false, 'detached: readers take the recheck path');
    assert.equal(b.recheck(), true, 'untracked = available');
    await monitor.reconcile(specs(spec(A, null), spec(B, null)));
    const b2 = monitor.handle('app', B);
    assert.notEqual(b2, b);
    fail(monitor, B, 3);
    assert.equal(b2.available, false);
    assert.equal(b.recheck(), false, 'an old generation still sees the current state by key');
    const orphan = monitor.handle('app', 'http://127.0.0.1:1003'); // compiled, generation never served
    await monitor.reconcile(specs(spec(A, null), spec(B, null)));
    assert.equal(orphan.available, false);
    assert.equal(orphan.recheck(), true);
    await monitor.close();
    assert.equal(b2.recheck(), true, 'closed: nothing tracked');
  });
});

describe('HealthMonitor.unavailableCount', () => {
  it('counts tracked backends whose handle is down, through ejection, re-admission, drop and close', async () => {
    const clock = new FrozenTimers();
    const monitor = new HealthMonitor({ createProber: fakeProberFactory().factory, scheduler: clock, random: () => 0 });
    await monitor.reconcile(specs(spec(A, null), spec(B, null)));
    assert.equal(monitor.unavailableCount, 0);
    fail(monitor, A, 3);
    fail(monitor, B, 3);
    assert.equal(monitor.unavailableCount, 2);
    clock.time = 10_000;
    assert.equal(monitor.handle('app', A).recheck(), true);
    assert.equal(monitor.unavailableCount, 1);
    await monitor.reconcile(specs(spec(A, null)));
    assert.equal(monitor.unavailableCount, 0, 'B dropped while down');
    fail(monitor, A, 3);
    assert.equal(monitor.unavailableCount, 1);
    await monitor.close();
    assert.equal(monitor.unavailableCount, 0);
  });
});
