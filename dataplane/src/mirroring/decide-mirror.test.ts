import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideMirror } from './decide-mirror.ts';
import { MirrorLimiter } from './mirror-limiter.ts';

const base = { percent: 100, hasBody: false, roll: 0.5, slotFree: true };

test('decideMirror rules in order', () => {
  assert.deepEqual(decideMirror(base), { mirror: true });
  assert.deepEqual(decideMirror({ ...base, hasBody: true }), { mirror: false, reason: 'skipped:body' });
  assert.deepEqual(decideMirror({ ...base, percent: 0, roll: 0 }), { mirror: false, reason: 'skipped:sampled' });
  assert.deepEqual(decideMirror({ ...base, percent: 50, roll: 0.49 }), { mirror: true });
  assert.deepEqual(decideMirror({ ...base, percent: 50, roll: 0.5 }), { mirror: false, reason: 'skipped:sampled' });
  assert.deepEqual(decideMirror({ ...base, percent: 100, roll: 0.999999 }), { mirror: true });
  assert.deepEqual(decideMirror({ ...base, slotFree: false }), { mirror: false, reason: 'skipped:busy' });
  assert.deepEqual(decideMirror({ ...base, hasBody: true, slotFree: false }), { mirror: false, reason: 'skipped:body' }, 'body first');
});

test('MirrorLimiter: at most max per upstream, slots come back', () => {
  const l = new MirrorLimiter(2);
  assert.equal(l.tryAcquire('s'), true);
  assert.equal(l.tryAcquire('s'), true);
  assert.equal(l.tryAcquire('s'), false);
  assert.equal(l.hasFree('s'), false);
  assert.equal(l.tryAcquire('other'), true, 'per upstream');
  l.release('s');
  assert.equal(l.inflight('s'), 1);
  assert.equal(l.tryAcquire('s'), true);
  l.release('s');
  l.release('s');
  assert.equal(l.inflight('s'), 0);
});
