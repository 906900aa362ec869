import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConnectionAdmission } from './connection-admission.ts';
import { DEFAULT_CONNECTION_LIMITS } from './connection-limits.ts';

function admission(over: Partial<typeof DEFAULT_CONNECTION_LIMITS>, clock: { t: number }): ConnectionAdmission {
  return new ConnectionAdmission({ ...DEFAULT_CONNECTION_LIMITS, ...over }, () => clock.t);
}

test('admission: per-IP cap, then global cap, then rate; release frees the place once', () => {
  const clock = { t: 0 };
  const a = admission({ maxConnectionsPerIp: 2, maxActiveConnections: 3, newConnectionsPerSec: 1, newConnectionsBurst: 10 }, clock);
  const one = a.admit('10.0.0.1');
  const two = a.admit('10.0.0.1');
  assert.ok(one.ok && two.ok);
  assert.deepEqual(a.admit('10.0.0.1'), { ok: false, reason: 'max_connections_per_ip' });
  assert.ok(a.admit('10.0.0.2').ok);
  assert.deepEqual(a.admit('10.0.0.3'), { ok: false, reason: 'max_active_connections' });
  one.release();
  one.release();
  assert.equal(a.active, 2);
  assert.equal(a.activeFrom('10.0.0.1'), 1);
  assert.ok(a.admit('10.0.0.1').ok);
});

test('admission: an empty bucket refuses; refused connections spend no token', () => {
  const clock = { t: 0 };
  const a = admission({ maxConnectionsPerIp: 1, newConnectionsPerSec: 2, newConnectionsBurst: 2 }, clock);
  const first = a.admit('a');
  assert.ok(first.ok);
  assert.equal(a.admit('a').ok, false); // per-IP: no token spent
  assert.ok(a.admit('b').ok);
  assert.deepEqual(a.admit('c'), { ok: false, reason: 'rate_limited' });
  clock.t = 500;
  assert.ok(a.admit('c').ok);
});

test('admission: new limits apply to the next connection, open ones keep their places', () => {
  const clock = { t: 0 };
  const a = admission({ maxConnectionsPerIp: 5 }, clock);
  const held = [a.admit('x'), a.admit('x'), a.admit('x')];
  a.setLimits({ ...DEFAULT_CONNECTION_LIMITS, maxConnectionsPerIp: 2 });
  assert.deepEqual(a.admit('x'), { ok: false, reason: 'max_connections_per_ip' });
  for (const h of held) if (h.ok) h.release();
  assert.ok(a.admit('x').ok);
});
