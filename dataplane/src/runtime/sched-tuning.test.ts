import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { applySchedBatch, wantsSchedBatch } from './sched-tuning.ts';

/** The scheduling policy of a thread from /proc (field 41 of stat: 0 = SCHED_OTHER, 3 = SCHED_BATCH). */
function policyOf(pid: number, tid: number): number {
  const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[38]);
}

describe('sched tuning', () => {
  it('SPOOKY_SCHED_BATCH=0 turns it off; other platforms skip it; otherwise it applies', () => {
    assert.deepEqual(wantsSchedBatch({ SPOOKY_SCHED_BATCH: '0' }, 'linux'), { applied: false, reason: 'disabled' });
    assert.deepEqual(wantsSchedBatch({}, 'darwin'), { applied: false, reason: 'not_linux' });
    assert.equal(wantsSchedBatch({}, 'linux'), null);
    assert.equal(wantsSchedBatch({ SPOOKY_SCHED_BATCH: '1' }, 'linux'), null);
  });

  it('a missing chrt is reported as failed, not thrown', () => {
    const out = applySchedBatch({}, process.pid, '/nonexistent/chrt');
    if (process.platform !== 'linux') return;
    assert.equal(out.applied, false);
    assert.equal(out.applied === false && out.reason, 'failed');
  });

  it('applies SCHED_BATCH to every thread of a real child process', { skip: process.platform !== 'linux' }, async () => {
    // The child says so once its script runs: Node's V8 and libuv threads exist by then.
    const child = spawn(process.execPath, ['-e', 'process.stdout.write("ready\\n"); setInterval(() => {}, 1000)'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const pid = child.pid as number;
      await Promise.race([once(child.stdout, 'data'), new Promise((_, reject) => setTimeout(() => reject(new Error('child not ready in 10 s')), 10_000).unref())]);
      const out = applySchedBatch({}, pid);
      assert.deepEqual(out, { applied: true });
      const tids = readdirSync(`/proc/${pid}/task`).map(Number);
      assert.ok(tids.length >= 2, 'a Node process has helper threads');
      for (const tid of tids) assert.equal(policyOf(pid, tid), 3, `thread ${tid} is SCHED_BATCH`);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
