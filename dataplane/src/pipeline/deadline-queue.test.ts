import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeadlineQueue } from './deadline-queue.ts';

describe('DeadlineQueue', () => {
  it('expires due entries in order, never a cancelled one, and frees cancelled ones at once', () => {
    let now = 0;
    const q = new DeadlineQueue(() => now);
    const fired: string[] = [];
    const a = q.add(1000, () => fired.push('a'));
    now = 10;
    const b = q.add(1000, () => fired.push('b'));
    now = 20;
    q.add(1000, () => fired.push('c'));
    q.add(50, () => fired.push('short'));
    b.cancel();
    assert.equal(q.size, 3, 'a cancelled entry is unlinked at once');
    now = 69;
    q.expireDue();
    assert.deepEqual(fired, []);
    now = 70;
    q.expireDue();
    assert.deepEqual(fired, ['short']);
    now = 1015;
    q.expireDue();
    assert.deepEqual(fired, ['short', 'a']);
    a.cancel(); // after it fired: nothing
    now = 5000;
    q.expireDue();
    assert.deepEqual(fired, ['short', 'a', 'c']);
    assert.equal(q.size, 0);
  });

  it('fires on its own timer, and a throwing callback does not stop the others', async () => {
    const q = new DeadlineQueue();
    const fired: number[] = [];
    q.add(20, () => {
      throw new Error('bug');
    });
    q.add(20, () => fired.push(1));
    const cancelled = q.add(20, () => fired.push(2));
    cancelled.cancel();
    await new Promise((resolve) => setTimeout(resolve, 80));
    assert.deepEqual(fired, [1]);
    assert.equal(q.size, 0);
  });

  it('retime moves a pending deadline to another timeout counted from its start, once', () => {
    let now = 0;
    const q = new DeadlineQueue(() => now);
    const fired: string[] = [];
    let shorter = q.add(1000, () => fired.push('shorter'));
    let longer = q.add(1000, () => fired.push('longer'));
    now = 5;
    shorter = q.retime(shorter, 100, 0);
    longer = q.retime(longer, 3000, 0);
    assert.equal(q.size, 2, 'the old entries are unlinked');
    now = 99;
    q.expireDue();
    assert.deepEqual(fired, []);
    now = 100;
    q.expireDue();
    assert.deepEqual(fired, ['shorter'], 'due 100 ms after its start, not after the retime');
    now = 1500;
    q.expireDue();
    assert.deepEqual(fired, ['shorter'], 'the original 1000 ms no longer applies');
    assert.equal(q.retime(shorter, 50, 0), shorter, 'a fired deadline is not re-armed');
    now = 3000;
    q.expireDue();
    assert.deepEqual(fired, ['shorter', 'longer']);
    longer.cancel();
    assert.equal(q.size, 0);
  });
});
