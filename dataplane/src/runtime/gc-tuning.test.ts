import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyGcTuning, GC_EXTERNAL_IN_GLOBAL_ENV } from './gc-tuning.ts';

test('the external-memory GC tuning is applied unless the environment opts out with 0', () => {
  assert.equal(applyGcTuning({}), true);
  assert.equal(applyGcTuning({ [GC_EXTERNAL_IN_GLOBAL_ENV]: '1' }), true);
  assert.equal(applyGcTuning({ [GC_EXTERNAL_IN_GLOBAL_ENV]: '0' }), false);
});
