import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { HealthCheck } from '@spooky/config';
import { HealthMonitor, type HealthSpec, healthKey } from './health-monitor.ts';
import { fakeProberFactory } from './testing/fake-prober.ts';
import { HealthEventsRecorder } from './testing/health-events-recorder.ts';
import { ManualScheduler } from './testing/manual-scheduler.ts';

const TRANSPORT = { connectTimeoutMs: 1000, verifyCertificates: true, ca: null };
const CHECK: HealthCheck = { path: '/health', interval: 100, timeout_ms: 50, failure_threshold: 2, success_threshold: 1, cooldown_ms: 500 };
const A = 'http://127.0.0.1:1001';
const B = 'http://127.0.0.1:1002';

function spec(address: string, backendId: string, check: HealthCheck | null): HealthSpec {
  return { upstream: 'app', backendId, address, check, transport: TRANSPORT };
}

function specs(...list: HealthSpec[]): Map<string, HealthSpec> {
  return new Map(list.map((s) => [healthKey(s.upstream, s.address), s]));
}

describe('HealthMonitor', () => {
  let scheduler: ManualScheduler;
  let probers: ReturnType<typeof fakeProberFactory>;
  let monitor: HealthMonitor;
  let events: HealthEventsRecorder;

  beforeEach(() => {
    scheduler = new ManualScheduler();
    probers = fakeProberFactory();
    monitor = new HealthMonitor({ createProber: probers.factory, scheduler, random: () => 0 });
    events = new HealthEventsRecorder();
  });
  afterEach(async () => {
    events.stop();
    await monitor.close();
  });

  it('untracked backends are available', () => {
    assert.equal(monitor.isAvailable('app', A), true);
  });

  describe('passive ejection (no health_check)', () => {
    it('ejects after 3 consecutive failures for 10 s, then re-admits optimistically', async () => {
      await monitor.reconcile(specs(spec(A, 'a', null)));
      assert.equal(probers.built.length, 0, 'no probes without a health_check');
      monitor.reportTraffic('app', A, { kind: 'error', code: 'upstream_connect_failed' });
      monitor.reportTraffic('app', A, { kind: 'response', status: 503 });
      assert.equal(monitor.isAvailable('app', A), true);
      monitor.reportTraffic('app', A, { kind: 'error', code: 'upstream_timeout' });
      assert.equal(monitor.isAvailable('app', A), false);
      assert.deepEqual(events.summary(), ['a:healthy>unhealthy']);
      assert.equal(events.transitions[0]?.detail, 'upstream_timeout');

      monitor.reportTraffic('app', A, { kind: 'response', status: 200 }); // a straggler: ignored
      await scheduler.advance(9_999);
      assert.equal(monitor.isAvailable('app', A), false);
      await scheduler.advance(1);
      assert.equal(monitor.isAvailable('app', A), true, 'optimistic re-admission');
      assert.deepEqual(events.summary(), ['a:healthy>unhealthy', 'a:unhealthy>probing']);

      monitor.reportTraffic('app', A, { kind: 'response', status: 200 });
      assert.deepEqual(monitor.snapshot().map((b) => b.status), ['healthy']);
      assert.deepEqual(events.summary().at(-1), 'a:probing>healthy');
    });

    it('a failure after re-admission ejects again at once', async () => {
      await monitor.reconcile(specs(spec(A, 'a', null)));
      for (let i = 0; i < 3; i++) monitor.reportTraffic('app', A, { kind: 'response', status: 500 });
      await scheduler.advance(10_000);
      assert.equal(monitor.isAvailable('app', A), true);
      monitor.reportTraffic('app', A, { kind: 'error', code: 'upstream_tls_failed' });
      assert.equal(monitor.isAvailable('app', A), false);
      assert.deepEqual(events.summary(), ['a:healthy>unhealthy', 'a:unhealthy>probing', 'a:probing>unhealthy']);
    });

    it('4xx and client aborts do not count; a success resets the streak', async () => {
      await monitor.reconcile(specs(spec(A, 'a', null)));
      const fail = () => monitor.reportTraffic('app', A, { kind: 'response', status: 502 });
      fail();
      fail();
      monitor.reportTraffic('app', A, { kind: 'response', status: 404 });
      monitor.reportTraffic('app', A, { kind: 'error', code: 'client_aborted' });
      monitor.reportTraffic('app', A, { kind: 'response', status: 200 });
      fail();
      fail();
      assert.equal(monitor.isAvailable('app', A), true);
      assert.deepEqual(events.summary(), []);
    });
  });

  describe('active checks', () => {
    it('ejects on failing probes, ignores traffic, re-admits after cooldown + success_threshold', async () => {
      const check = { ...CHECK, success_threshold: 2 };
      await monitor.reconcile(specs(spec(A, 'a', check), spec(B, 'b', check)));
      assert.equal(monitor.activeCheckers(), 2);
      const prober = probers.latest(A);
      assert.ok(prober);
      assert.deepEqual(prober.settings, TRANSPORT, 'probes use the traffic TLS settings');
      for (let i = 0; i < 5; i++) monitor.reportTraffic('app', A, { kind: 'response', status: 500 });
      assert.equal(monitor.isAvailable('app', A), true, 'traffic does not eject actively checked backends');

      prober.result = { kind: 'error', code: 'ECONNREFUSED' };
      await scheduler.advance(0); // first probes (jitter 0)
      assert.equal(monitor.isAvailable('app', A), true);
      await scheduler.advance(200); // second failure, after backoff 100 × 2
      assert.equal(monitor.isAvailable('app', A), false);
      assert.equal(monitor.isAvailable('app', B), true);
      assert.equal(events.transitions[0]?.detail, 'transport ECONNREFUSED');

      prober.result = { kind: 'response', status: 200 };
      await scheduler.advance(400); // a success during the cooldown (t=600 < 700): ignored
      assert.equal(monitor.isAvailable('app', A), false);
      await scheduler.advance(100); // t=700: cooldown over → probing, 1 of 2 successes: still no traffic
      assert.deepEqual(events.summary(), ['a:healthy>unhealthy', 'a:unhealthy>probing']);
      assert.equal(monitor.isAvailable('app', A), false, 'Probing takes no traffic under an active check');
      await scheduler.advance(100); // t=800: second success → healthy
      assert.equal(monitor.isAvailable('app', A), true);
      assert.deepEqual(events.summary(), ['a:healthy>unhealthy', 'a:unhealthy>probing', 'a:probing>healthy']);
    });
  });

  describe('reconcile', () => {
    it('keeps state and running probes for backends still named; restarts a changed check keeping state', async () => {
      await monitor.reconcile(specs(spec(A, 'a', CHECK)));
      const prober = probers.latest(A);
      assert.ok(prober);
      prober.result = { kind: 'response', status: 503 };
      await scheduler.advance(200);
      assert.equal(monitor.isAvailable('app', A), false);
      const calls = prober.calls.length;

      await monitor.reconcile(specs(spec(A, 'a', CHECK), spec(B, 'b', null)));
      assert.equal(monitor.isAvailable('app', A), false, 'state kept across an unchanged swap');
      assert.equal(probers.built.length, 1, 'no new prober');
      assert.equal(scheduler.pendingDelays().includes(400), true, 'the running backoff schedule is kept');

      const changed: HealthCheck = { ...CHECK, path: '/ready', interval: 1000 };
      await monitor.reconcile(specs(spec(A, 'a', changed)));
      assert.equal(monitor.isAvailable('app', A), false, 'state kept when the check changes');
      assert.equal(probers.built.length, 1, 'same TLS settings: the probe pool is kept');
      assert.equal(prober.closed, false);
      await scheduler.advance(1);
      assert.equal(prober.calls.at(-1)?.path, '/ready', 'the restarted checker uses the new settings');
      assert.ok(prober.calls.length > calls);
      assert.equal(monitor.activeCheckers(), 1);
    });

    it('drops backends no longer named: checker stopped, timers cancelled, prober closed', async () => {
      await monitor.reconcile(specs(spec(A, 'a', CHECK), spec(B, 'b', null)));
      for (let i = 0; i < 3; i++) monitor.reportTraffic('app', B, { kind: 'error', code: 'upstream_connect_failed' });
      assert.ok(scheduler.pendingCount() >= 2, 'a probe timer and a cooldown timer');
      await monitor.reconcile(specs());
      assert.equal(scheduler.pendingCount(), 0);
      assert.equal(probers.latest(A)?.closed, true);
      assert.equal(monitor.activeCheckers(), 0);
      assert.deepEqual(monitor.snapshot(), []);
      assert.deepEqual(
        events.membership.filter((m) => m.change === 'removed').map((m) => m.backend),
        ['a', 'b'],
      );
      assert.equal(monitor.isAvailable('app', B), true, 'untracked again');
    });

    it('a new TLS setting rebuilds the probe pool', async () => {
      await monitor.reconcile(specs(spec(A, 'a', CHECK)));
      const first = probers.latest(A);
      await monitor.reconcile(specs({ ...spec(A, 'a', CHECK), transport: { ...TRANSPORT, verifyCertificates: false } }));
      assert.equal(first?.closed, true);
      assert.equal(probers.built.length, 2);
      assert.equal(probers.latest(A)?.settings?.verifyCertificates, false);
    });

    it('a new client certificate or server name rebuilds the probe pool; equal settings keep it', async () => {
      const mtls = { ...TRANSPORT, serverName: 'origin.test', clientCert: { cert: 'C1', key: 'K1' } };
      await monitor.reconcile(specs({ ...spec(A, 'a', CHECK), transport: mtls }));
      const first = probers.latest(A);
      await monitor.reconcile(specs({ ...spec(A, 'a', CHECK), transport: { ...mtls, clientCert: { cert: 'C1', key: 'K1' } } }));
      assert.equal(first?.closed, false, 'equal content, other objects: kept');
      await monitor.reconcile(specs({ ...spec(A, 'a', CHECK), transport: { ...mtls, clientCert: { cert: 'C1', key: 'K2' } } }));
      assert.equal(first?.closed, true);
      const second = probers.latest(A);
      await monitor.reconcile(specs({ ...spec(A, 'a', CHECK), transport: { ...mtls, clientCert: { cert: 'C1', key: 'K2' }, serverName: 'other.test' } }));
      assert.equal(second?.closed, true);
      assert.equal(probers.built.length, 3);
    });

    it('renewProbers rebuilds the probe pools of matching backends only, keeping their health state', async () => {
      await monitor.reconcile(specs(spec(A, 'a', CHECK), spec(B, 'b', CHECK)));
      const a = probers.latest(A);
      const b = probers.latest(B);
      const before = monitor.snapshot();
      await monitor.renewProbers((address) => address === A);
      assert.equal(a?.closed, true);
      assert.equal(b?.closed, false);
      assert.notEqual(probers.latest(A), a, 'a fresh prober for A');
      assert.equal(monitor.activeCheckers(), 2);
      assert.deepEqual(monitor.snapshot(), before);
    });
  });
});
