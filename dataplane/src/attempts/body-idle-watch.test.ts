import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BodyIdleWatch } from './body-idle-watch.ts';

describe('BodyIdleWatch', () => {
  it('fails a body idle past its bound exactly once; touches and stop keep others alive', () => {
    let now = 0;
    const watch = new BodyIdleWatch(() => now);
    const fired: string[] = [];
    const stalled = watch.watch(1000, () => fired.push('stalled'));
    const moving = watch.watch(1000, () => fired.push('moving'));
    const finished = watch.watch(1000, () => fired.push('finished'));
    finished.stop();
    for (now = 0; now <= 3000; now += 100) {
      moving.touch();
      watch.sweep();
    }
    assert.deepEqual(fired, ['stalled']);
    assert.equal(watch.size, 1, 'the moving body is still watched');
    stalled.touch(); // late bytes after the verdict change nothing
    moving.stop();
    watch.sweep();
    assert.equal(watch.size, 0);
    assert.deepEqual(fired, ['stalled']);
  });

  it('is not idle at exactly the bound, only past it', () => {
    let now = 0;
    const watch = new BodyIdleWatch(() => now);
    let fired = 0;
    watch.watch(500, () => fired++);
    now = 500;
    watch.sweep();
    assert.equal(fired, 0);
    now = 501;
    watch.sweep();
    assert.equal(fired, 1);
  });
});
