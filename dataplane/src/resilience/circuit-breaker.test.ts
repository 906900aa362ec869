import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CircuitBreakerPolicy } from '@spooky/config';
import { BreakerRegistry, breakerVerdict, CircuitBreaker, PERMIT_NONE, PERMIT_NORMAL, PERMIT_PROBE } from './circuit-breaker.ts';

const policy: CircuitBreakerPolicy = { enabled: true, failure_threshold: 3, open_ms: 1000, half_open_max_probes: 2, count_5xx: false };

type Step = ['fail' | 'ok' | 'neutral', number] | ['acquire', number, number] | ['state', number, string];

function run(steps: Step[], p: CircuitBreakerPolicy = policy): void {
  const b = new CircuitBreaker(p);
  const permits: number[] = [];
  for (const [i, step] of steps.entries()) {
    const [op, now] = step;
    if (op === 'acquire') {
      const permit = b.acquire(now);
      assert.equal(permit, step[2], `step ${i}: acquire`);
      if (permit !== PERMIT_NONE) permits.push(permit);
    } else if (op === 'state') {
      assert.equal(b.state(now), step[2], `step ${i}: state`);
    } else {
      const verdict = op === 'fail' ? 'failure' : op === 'ok' ? 'success' : 'neutral';
      b.release((permits.shift() ?? PERMIT_NORMAL) as 1 | 2, verdict, now);
    }
  }
}

test('closed → open after failure_threshold consecutive failures; a success resets the count', () => {
  run([
    ['acquire', 0, PERMIT_NORMAL], ['fail', 0],
    ['acquire', 0, PERMIT_NORMAL], ['fail', 0],
    ['acquire', 0, PERMIT_NORMAL], ['ok', 0],
    ['acquire', 0, PERMIT_NORMAL], ['fail', 0],
    ['acquire', 0, PERMIT_NORMAL], ['fail', 0],
    ['state', 0, 'closed'],
    ['acquire', 0, PERMIT_NORMAL], ['fail', 10],
    ['state', 10, 'open'],
    ['acquire', 500, PERMIT_NONE],
    ['state', 1009, 'open'],
  ]);
});

test('half-open after open_ms admits at most half_open_max_probes; a probe success closes', () => {
  run([
    ['acquire', 0, PERMIT_NORMAL], ['fail', 0], ['acquire', 0, PERMIT_NORMAL], ['fail', 0], ['acquire', 0, PERMIT_NORMAL], ['fail', 0],
    ['state', 1000, 'half_open'],
    ['acquire', 1000, PERMIT_PROBE],
    ['acquire', 1000, PERMIT_PROBE],
    ['acquire', 1000, PERMIT_NONE],
    ['ok', 1001],
    ['state', 1001, 'closed'],
    ['acquire', 1001, PERMIT_NORMAL],
  ]);
});

test('a probe failure reopens for another open_ms; neutral verdicts return the probe only', () => {
  run([
    ['acquire', 0, PERMIT_NORMAL], ['fail', 0], ['acquire', 0, PERMIT_NORMAL], ['fail', 0], ['acquire', 0, PERMIT_NORMAL], ['fail', 0],
    ['acquire', 1000, PERMIT_PROBE], ['neutral', 1000],
    ['state', 1000, 'half_open'],
    ['acquire', 1000, PERMIT_PROBE], ['fail', 1200],
    ['state', 1200, 'open'],
    ['acquire', 2199, PERMIT_NONE],
    ['state', 2200, 'half_open'],
  ]);
});

test('a disabled breaker never opens', () => {
  run([['acquire', 0, PERMIT_NORMAL], ['fail', 0], ['acquire', 0, PERMIT_NORMAL], ['fail', 0], ['acquire', 0, PERMIT_NORMAL], ['fail', 0], ['state', 0, 'closed']], { ...policy, enabled: false });
});

test('available() filters without taking a permit', () => {
  const b = new CircuitBreaker({ ...policy, failure_threshold: 1, half_open_max_probes: 1 });
  b.release(b.acquire(0), 'failure', 0);
  assert.equal(b.available(10), false);
  assert.equal(b.available(1000), true);
  assert.equal(b.available(1000), true, 'still no permit taken');
  assert.equal(b.acquire(1000), PERMIT_PROBE);
  assert.equal(b.available(1000), false, 'the one probe is out');
});

test('breakerVerdict: transport failures count; 5xx only with count_5xx; client aborts are neutral', () => {
  const table: Array<[{ failure: string | null; status: number | null; clientAborted: boolean }, boolean, string]> = [
    [{ failure: 'connect_failure', status: null, clientAborted: false }, false, 'failure'],
    [{ failure: 'timeout', status: null, clientAborted: false }, false, 'failure'],
    [{ failure: null, status: 503, clientAborted: false }, false, 'neutral'],
    [{ failure: null, status: 503, clientAborted: false }, true, 'failure'],
    [{ failure: null, status: 404, clientAborted: false }, true, 'success'],
    [{ failure: null, status: 200, clientAborted: false }, true, 'success'],
    [{ failure: 'reset', status: null, clientAborted: true }, true, 'neutral'],
  ];
  for (const [outcome, count5xx, expected] of table) assert.equal(breakerVerdict(outcome, count5xx), expected, JSON.stringify(outcome));
});

test('registry: state survives a reconfigure (generation swap); unnamed backends are dropped', () => {
  const reg = new BreakerRegistry();
  const b = reg.breaker('api\u0000http://a:1', { ...policy, failure_threshold: 1 });
  b.release(b.acquire(0), 'failure', 0);
  const again = reg.breaker('api\u0000http://a:1', { ...policy, open_ms: 5000 });
  assert.equal(again, b);
  assert.equal(again.state(1500), 'open', 'still open, now for the new open_ms');
  reg.breaker('api\u0000http://b:1', policy);
  reg.retain(new Set(['api\u0000http://b:1']));
  assert.equal(reg.size, 1);
  assert.deepEqual([...reg.states(0)], [['api\u0000http://b:1', 'closed']]);
});
