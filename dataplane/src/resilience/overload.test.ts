import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AdaptiveAdmissionPolicy, BrownoutPolicy } from '@spooky/config';
import { AdaptiveAdmission } from './adaptive-admission.ts';
import { Brownout } from './brownout.ts';
import { InflightLimiter } from './inflight-limiter.ts';
import { RouteQueue } from './route-queue.ts';

test('in-flight: global and upstream permits are taken together or not at all; backends separately', () => {
  const limiter = new InflightLimiter(3);
  const a = limiter.upstream('a', 2);
  const b = limiter.upstream('b', 5);
  const steps: Array<[() => string | null, string | null]> = [
    [() => limiter.admit(a), null],
    [() => limiter.admit(a), null],
    [() => limiter.admit(a), 'inflight_upstream'],
    [() => limiter.admit(b), null],
    [() => limiter.admit(b), 'inflight_global'],
  ];
  for (const [i, [step, expected]] of steps.entries()) assert.equal(step(), expected, `step ${i}`);
  assert.deepEqual([limiter.global.active, a.active, b.active], [3, 2, 1], 'refusals took nothing');
  limiter.release(a);
  assert.equal(limiter.admit(b), null);
  const be = limiter.backend('a\u0000http://x:1', 1);
  assert.equal(limiter.acquireBackend(be), null);
  assert.equal(limiter.acquireBackend(be), 'inflight_backend');
  be.release();
  assert.equal(limiter.acquireBackend(be), null);
  limiter.retain(new Set(['b']), new Set());
  assert.deepEqual(limiter.sizes(), { upstreams: 2, backends: 1 }, 'busy gauges are kept until idle');
  a.release();
  be.release();
  limiter.retain(new Set(['b']), new Set());
  assert.deepEqual(limiter.sizes(), { upstreams: 1, backends: 0 });
});

test('route queue: FIFO per upstream, per-upstream and global caps shed with queue_full, O(1) removal', () => {
  const q = new RouteQueue<string>({ default_cap: 2, global_cap: 3, caps: { big: 10, none: 0 } });
  const t1 = q.enqueue('a', 'a1');
  q.enqueue('a', 'a2');
  assert.equal(q.enqueue('a', 'a3'), 'queue_full', 'default_cap');
  assert.equal(q.enqueue('none', 'n1'), 'queue_full', 'cap 0: no waiting');
  q.enqueue('big', 'b1');
  assert.equal(q.enqueue('big', 'b2'), 'queue_full', 'global_cap');
  assert.equal(q.length(), 3);
  assert.ok(typeof t1 !== 'string');
  assert.equal(q.remove('a', t1), true);
  assert.equal(q.remove('a', t1), false, 'already out');
  assert.equal(q.shift('a'), 'a2');
  assert.equal(q.shift('a'), undefined);
  assert.equal(q.shift('big'), 'b1');
  assert.equal(q.length(), 0);
});

const aa: AdaptiveAdmissionPolicy = { enabled: true, min_limit: 2, max_limit: 6, decrease_step: 2, increase_step: 1, high_latency_ms: 100 };

test('adaptive admission: latency above target shrinks the limit by decrease_step, others grow it by increase_step, within [min, max]', () => {
  const adm = new AdaptiveAdmission(aa, 4096);
  const table: Array<[number, number]> = [
    [150, 4], [150, 2], [150, 2], [100, 3], [10, 4], [10, 5], [10, 6], [10, 6], [101, 4],
  ];
  for (const [latency, limit] of table) {
    adm.recordLatency(latency);
    assert.equal(adm.limit, limit, `after ${latency} ms`);
  }
  for (let i = 0; i < 4; i++) assert.equal(adm.tryAcquire(), null);
  assert.equal(adm.tryAcquire(), 'admission_limit');
  adm.release();
  assert.equal(adm.tryAcquire(), null);
  assert.equal(new AdaptiveAdmission({ ...aa, max_limit: null }, 50).limit, 50, 'max_limit null = global limit');
  const off = new AdaptiveAdmission({ ...aa, enabled: false }, 1);
  for (let i = 0; i < 10; i++) assert.equal(off.tryAcquire(), null);
});

const bo: BrownoutPolicy = { enabled: true, trigger_inflight_percent: 90, recover_inflight_percent: 60, core_routes: ['core'] };

test('brownout: on at trigger, off only at recover (hysteresis); core never shed; off by default or with no core list', () => {
  const b = new Brownout(bo);
  const table: Array<[number, boolean]> = [[50, false], [89, false], [90, true], [70, true], [61, true], [60, false], [80, false], [95, true]];
  for (const [inflight, active] of table) assert.equal(b.observe(inflight, 100), active, `at ${inflight}%`);
  assert.equal(b.shed('web'), 'brownout');
  assert.equal(b.shed('core'), null);
  const noCore = new Brownout({ ...bo, core_routes: [] });
  noCore.observe(100, 100);
  assert.equal(noCore.shed('web'), null, 'empty core list sheds nothing');
  const off = new Brownout({ ...bo, enabled: false });
  assert.equal(off.observe(100, 100), false);
  b.reconfigure({ ...bo, enabled: false });
  assert.equal(b.active, false);
});

test('route queue lanes: upstream and backend waiters share the per-upstream and global caps, each lane FIFO on its own', () => {
  const q = new RouteQueue<string, string>({ default_cap: 3, global_cap: 4, caps: {} });
  // [operation, expected result]: e = enqueue (backend lane), u = enqueueUpstream, s = shift, su = shiftUpstream.
  const steps: Array<[string, () => unknown, unknown]> = [
    ['su empty', () => q.shiftUpstream('a'), undefined],
    ['u a1', () => typeof q.enqueueUpstream('a', 'u1'), 'object'],
    ['e a1', () => typeof q.enqueue('a', 'b1'), 'object'],
    ['u a2', () => typeof q.enqueueUpstream('a', 'u2'), 'object'],
    ['a is at its cap of 3 (both lanes)', () => q.enqueue('a', 'b2'), 'queue_full'],
    ['u on b', () => typeof q.enqueueUpstream('b', 'v1'), 'object'],
    ['global cap 4', () => q.enqueueUpstream('c', 'w1'), 'queue_full'],
    ['lengths', () => [q.length(), q.length('a'), q.length('b'), q.upstreamWaiting], [4, 3, 1, 3]],
    ['s a: backend lane only', () => q.shift('a'), 'b1'],
    ['s a: backend lane empty', () => q.shift('a'), undefined],
    ['su a: oldest first', () => q.shiftUpstream('a'), 'u1'],
    ['su b', () => q.shiftUpstream('b'), 'v1'],
    ['su a', () => q.shiftUpstream('a'), 'u2'],
    ['all out', () => [q.length(), q.upstreamWaiting], [0, 0]],
  ];
  for (const [name, op, expected] of steps) assert.deepEqual(op(), expected, name);
  const t = q.enqueueUpstream('a', 'gone');
  assert.ok(typeof t !== 'string');
  assert.equal(q.remove('a', t), true, 'a client that leaves is taken out');
  assert.equal(q.remove('a', t), false);
  assert.deepEqual([q.length(), q.upstreamWaiting, q.shiftUpstream('a')], [0, 0, undefined]);
  assert.equal(new RouteQueue({ default_cap: 0, global_cap: 9, caps: { x: 1 } }).allowsWaiting('a'), false, 'cap 0: no waiting');
  assert.equal(new RouteQueue({ default_cap: 0, global_cap: 9, caps: { x: 1 } }).allowsWaiting('x'), true);
  assert.equal(new RouteQueue({ default_cap: 5, global_cap: 0, caps: {} }).allowsWaiting('a'), false, 'global cap 0: no waiting');
});
