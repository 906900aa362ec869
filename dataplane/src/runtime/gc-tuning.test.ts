import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyGcTuning, DEFAULT_HEAP_GROWING_PERCENT, GC_EXTERNAL_IN_GLOBAL_ENV, GC_HEAP_GROWING_PERCENT_ENV, gcTuningFlags } from './gc-tuning.ts';

const EXTERNAL = '--external-memory-accounted-in-global-limit';
const GROWING = `--heap-growing-percent=${DEFAULT_HEAP_GROWING_PERCENT}`;

test('the external-memory GC tuning is applied unless the environment opts out with 0', () => {
  assert.deepEqual(gcTuningFlags({}), [EXTERNAL, GROWING]);
  assert.deepEqual(gcTuningFlags({ [GC_EXTERNAL_IN_GLOBAL_ENV]: '1' }), [EXTERNAL, GROWING]);
  assert.deepEqual(gcTuningFlags({ [GC_EXTERNAL_IN_GLOBAL_ENV]: '0' }), [GROWING]);
});

test('the heap growing factor: 300 % by default, another whole number when asked, 0 = V8 chooses, garbage = the default', () => {
  assert.deepEqual(gcTuningFlags({ [GC_HEAP_GROWING_PERCENT_ENV]: '150' }), [EXTERNAL, '--heap-growing-percent=150']);
  assert.deepEqual(gcTuningFlags({ [GC_HEAP_GROWING_PERCENT_ENV]: '0', [GC_EXTERNAL_IN_GLOBAL_ENV]: '0' }), []);
  for (const bad of ['x', '-5', '1.5', '5000']) assert.deepEqual(gcTuningFlags({ [GC_HEAP_GROWING_PERCENT_ENV]: bad }), [EXTERNAL, GROWING], bad);
  assert.deepEqual(gcTuningFlags({ [GC_HEAP_GROWING_PERCENT_ENV]: '' }), [EXTERNAL, GROWING]);
});

test('applyGcTuning sets what gcTuningFlags lists (V8 accepts both flags at run time)', () => {
  assert.deepEqual(applyGcTuning({}), [EXTERNAL, GROWING]);
});
