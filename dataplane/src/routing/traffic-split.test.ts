import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTrafficSplitter } from './traffic-split.ts';

test('empty split → null (traffic stays on the route upstream)', () => {
  assert.equal(createTrafficSplitter([]), null);
});

test('one target takes everything', () => {
  const s = createTrafficSplitter([{ upstream: 'only', weight: 5 }]);
  assert.deepEqual(Array.from({ length: 3 }, () => s?.pick()), ['only', 'only', 'only']);
});

test('smooth weighted: exact shares per window, interleaved', () => {
  const s = createTrafficSplitter([{ upstream: 'a', weight: 3 }, { upstream: 'b', weight: 1 }]);
  assert.ok(s);
  assert.deepEqual(Array.from({ length: 8 }, () => s.pick()), ['a', 'a', 'b', 'a', 'a', 'a', 'b', 'a']);
});

test('90/10 over 1000 requests: exactly 900/100, never more than one b in a row', () => {
  const s = createTrafficSplitter([{ upstream: 'stable', weight: 90 }, { upstream: 'canary', weight: 10 }]);
  assert.ok(s);
  const picks = Array.from({ length: 1000 }, () => s.pick());
  assert.equal(picks.filter((p) => p === 'canary').length, 100);
  assert.ok(!picks.join(',').includes('canary,canary'));
});

test('equal weights rotate strictly in declaration order', () => {
  const s = createTrafficSplitter([{ upstream: 'x', weight: 7 }, { upstream: 'y', weight: 7 }, { upstream: 'z', weight: 7 }]);
  assert.deepEqual(Array.from({ length: 6 }, () => s?.pick()), ['x', 'y', 'z', 'x', 'y', 'z']);
});
