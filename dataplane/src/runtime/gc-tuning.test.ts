import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyGcTuning, DEFAULT_HEAP_GROWING_PERCENT, GC_EXTERNAL_IN_GLOBAL_ENV, GC_HEAP_GROWING_PERCENT_ENV, GC_PRETENURING_ENV, gcTuningFlags } from './gc-tuning.ts';

const EXTERNAL = '--external-memory-accounted-in-global-limit';
const GROWING = `--heap-growing-percent=${DEFAULT_HEAP_GROWING_PERCENT}`;
const NO_PRETENURING = '--no-allocation-site-pretenuring';

test('the external-memory GC tuning is applied unless the environment opts out with 0', () => {
  assert.deepEqual(gcTuningFlags({}), [EXTERNAL, GROWING, NO_PRETENURING]);
  assert.deepEqual(gcTuningFlags({ [GC_EXTERNAL_IN_GLOBAL_ENV]: '1' }), [EXTERNAL, GROWING, NO_PRETENURING]);
  assert.deepEqual(gcTuningFlags({ [GC_EXTERNAL_IN_GLOBAL_ENV]: '0' }), [GROWING, NO_PRETENURING]);
});

test('the heap growing factor: 300 % by default, another whole number when asked, 0 = V8 chooses, garbage = the default', () => {
  assert.deepEqual(gcTuningFlags({ [GC_HEAP_GROWING_PERCENT_ENV]: '150' }), [EXTERNAL, '--heap-growing-percent=150', NO_PRETENURING]);
  assert.deepEqual(gcTuningFlags({ [GC_HEAP_GROWING_PERCENT_ENV]: '0', [GC_EXTERNAL_IN_GLOBAL_ENV]: '0', [GC_PRETENURING_ENV]: '1' }), []);
  for (const bad of ['x', '-5', '1.5', '5000']) assert.deepEqual(gcTuningFlags({ [GC_HEAP_GROWING_PERCENT_ENV]: bad }), [EXTERNAL, GROWING, NO_PRETENURING], bad);
  assert.deepEqual(gcTuningFlags({ [GC_HEAP_GROWING_PERCENT_ENV]: '' }), [EXTERNAL, GROWING, NO_PRETENURING]);
});

test('allocation-site pretenuring is off unless the environment asks for V8\'s default with 1', () => {
  assert.deepEqual(gcTuningFlags({ [GC_PRETENURING_ENV]: '1' }), [EXTERNAL, GROWING]);
  for (const other of ['0', '', 'yes']) assert.deepEqual(gcTuningFlags({ [GC_PRETENURING_ENV]: other }), [EXTERNAL, GROWING, NO_PRETENURING], other);
});

test('applyGcTuning sets what gcTuningFlags lists (V8 accepts every flag at run time)', () => {
  assert.deepEqual(applyGcTuning({}), [EXTERNAL, GROWING, NO_PRETENURING]);
});
