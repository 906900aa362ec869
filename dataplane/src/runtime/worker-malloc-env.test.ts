import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MMAP_THRESHOLD_ENV, WORKER_MALLOC_ENV, workerMallocEnv } from './worker-malloc-env.ts';

test('a worker gets a fixed 32 KiB mmap threshold by default', () => {
  assert.deepEqual(workerMallocEnv({}), { [MMAP_THRESHOLD_ENV]: '32768' });
  assert.deepEqual(workerMallocEnv({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }), { [MMAP_THRESHOLD_ENV]: '32768' });
});

test("the user's own malloc settings win, and SPOOKY_WORKER_MALLOC=0 adds nothing", () => {
  assert.deepEqual(workerMallocEnv({ [MMAP_THRESHOLD_ENV]: '131072' }), {});
  assert.deepEqual(workerMallocEnv({ GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=65536' }), {});
  assert.deepEqual(workerMallocEnv({ [WORKER_MALLOC_ENV]: '0' }), {});
  assert.deepEqual(workerMallocEnv({ [WORKER_MALLOC_ENV]: '1' }), { [MMAP_THRESHOLD_ENV]: '32768' });
});
