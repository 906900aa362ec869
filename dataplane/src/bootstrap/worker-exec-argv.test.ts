import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WORKER_SEMI_SPACE_FLAG, workerExecArgv } from './worker-exec-argv.ts';

test('workers get the semi-space cap unless the operator set one (flag or NODE_OPTIONS, either spelling)', () => {
  assert.deepEqual(workerExecArgv([], undefined), [WORKER_SEMI_SPACE_FLAG]);
  assert.deepEqual(workerExecArgv(['--enable-source-maps'], ''), ['--enable-source-maps', WORKER_SEMI_SPACE_FLAG]);
  assert.deepEqual(workerExecArgv(['--max-semi-space-size=64'], undefined), ['--max-semi-space-size=64']);
  assert.deepEqual(workerExecArgv([], '--max_semi_space_size=8 --trace-gc'), []);
  assert.deepEqual(workerExecArgv([], '--max-old-space-size=512'), [WORKER_SEMI_SPACE_FLAG]);
});
