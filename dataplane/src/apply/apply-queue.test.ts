import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplyQueue } from './apply-queue.ts';
import type { PreparedApply } from './prepared-apply.ts';

/** A PreparedApply that records its calls into `log`. */
function prepared(log: string[], name: string, ok = true): PreparedApply {
  return ok
    ? {
        result: { ok: true },
        commit: () => log.push(`${name} commit`),
        abort: async () => {
          log.push(`${name} abort`);
        },
        flushed: async () => undefined,
      }
    : { result: { ok: false, phase: 'parse', retryable: false, issues: [] }, commit: () => undefined, abort: async () => undefined, flushed: async () => undefined };
}

const never = (): PreparedApply => assert.fail('prepare did not throw');

describe('ApplyQueue', () => {
  it('runs work in call order, one at a time; a failure does not block what follows', async () => {
    const queue = new ApplyQueue();
    const log: string[] = [];
    const first = queue.run(async () => {
      log.push('first start');
      await Promise.resolve();
      log.push('first end');
    });
    const failing = queue.run(async () => {
      throw new Error('boom');
    });
    const third = queue.run(async () => log.push('third'));
    await first;
    await assert.rejects(failing, /boom/);
    await third;
    assert.deepEqual(log, ['first start', 'first end', 'third']);
  });

  it('an ok prepare holds the queue until its commit; an abort releases it too', async () => {
    const queue = new ApplyQueue();
    const log: string[] = [];
    const a = await queue.runPrepared(async () => prepared(log, 'a'), never);
    const after = queue.run(async () => log.push('after a'));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(log.length, 0, 'held while a is neither committed nor aborted');
    a.commit();
    await after;
    assert.deepEqual(log, ['a commit', 'after a']);
    const b = await queue.runPrepared(async () => prepared(log, 'b'), never);
    const afterB = queue.run(async () => log.push('after b'));
    await b.abort();
    await afterB;
    assert.deepEqual(log.slice(2), ['b abort', 'after b']);
  });

  it('a prepare that is not ok releases at once; one that throws is answered by onError and releases', async () => {
    const queue = new ApplyQueue();
    const log: string[] = [];
    const refused = await queue.runPrepared(async () => prepared(log, 'x', false), never);
    assert.equal(refused.result.ok, false);
    const answer = prepared(log, 'fallback', false);
    const thrown = await queue.runPrepared(async () => {
      throw new Error('bug');
    }, () => answer);
    assert.equal(thrown, answer);
    await queue.run(async () => log.push('next'));
    assert.deepEqual(log, ['next']);
  });
});
