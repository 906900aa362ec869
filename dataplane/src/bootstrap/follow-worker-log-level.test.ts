import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import pino from 'pino';
import type { WorkerHandle, WorkerStatus } from '../apply/worker-handle.ts';
import type { ApplyResult, GenerationApplier } from '../control/generation-applier.ts';
import { followWorkerLogLevel } from './follow-worker-log-level.ts';

const REF = { scope: 's', seq: 1, digest: 'sha256:x' };

function fakes(result: ApplyResult) {
  const worker = { level: 'debug', asked: 0, fail: false };
  const handle = {
    status: async (): Promise<WorkerStatus> => {
      worker.asked++;
      if (worker.fail) throw new Error('worker 1 did not answer status within 2000 ms');
      return { serving: null, listeners: [], healthUnreadyReason: null, logLevel: worker.level };
    },
  } as unknown as WorkerHandle;
  const inner: GenerationApplier = {
    serving: () => null,
    apply: async () => result,
    hold: async () => result,
    promote: async () => result,
    dropCandidate: async () => undefined,
  };
  const logger = pino({ level: 'info' }, new Writable({ write: (_c, _e, cb) => cb() }));
  return { worker, handle, inner, logger };
}

describe('followWorkerLogLevel', () => {
  it('takes the level a worker logs at after an ok apply and promote, not after a hold', async () => {
    const { worker, handle, inner, logger } = fakes({ ok: true });
    const applier = followWorkerLogLevel(inner, logger, () => [handle], 2_000);
    assert.deepEqual(await applier.hold(new Uint8Array(), REF, { percent: 10 } as never), { ok: true });
    assert.equal(logger.level, 'info', 'a held candidate does not serve: its level is not taken');
    await applier.apply(new Uint8Array(), REF, 'control-plane');
    assert.equal(logger.level, 'debug');
    worker.level = 'warn';
    await applier.promote();
    assert.equal(logger.level, 'warn');
  });

  it('keeps the level when the apply failed, no worker is joined, or the worker does not answer', async () => {
    const failed = fakes({ ok: false, phase: 'parse', retryable: false, issues: [] });
    await followWorkerLogLevel(failed.inner, failed.logger, () => [failed.handle], 2_000).apply(new Uint8Array(), REF, 'control-plane');
    assert.deepEqual([failed.logger.level, failed.worker.asked], ['info', 0]);
    const none = fakes({ ok: true });
    await followWorkerLogLevel(none.inner, none.logger, () => [], 2_000).apply(new Uint8Array(), REF, 'control-plane');
    assert.equal(none.logger.level, 'info');
    const silent = fakes({ ok: true });
    silent.worker.fail = true;
    const result = await followWorkerLogLevel(silent.inner, silent.logger, () => [silent.handle], 2_000).apply(new Uint8Array(), REF, 'control-plane');
    assert.deepEqual([result, silent.logger.level, silent.worker.asked], [{ ok: true }, 'info', 1]);
  });
});
