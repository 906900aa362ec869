import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { parseStat, processTree, readStat, sampleTrees, threadClass, threadTicks } from './proc-cpu.ts';

describe('proc-cpu', () => {
  it('parses a stat line whose command name holds spaces and parentheses', () => {
    const line = '4242 (node (worker) x) S 4200 4242 4242 0 -1 4194560 1 0 0 0 150 25 3 4 20 0 11 0 987654 1000 100';
    assert.deepEqual(parseStat(line), { pid: 4242, ppid: 4200, ticks: 175, startTime: 987654 });
    assert.equal(parseStat('garbage'), null);
  });

  it('classes threads by name: the process thread is JS, V8Worker V8, libuv-worker libuv, the rest native', () => {
    assert.equal(threadClass(10, 10, 'MainThread'), 'js');
    assert.equal(threadClass(10, 11, 'V8Worker'), 'v8');
    assert.equal(threadClass(10, 12, 'DelayedTaskSche'), 'v8');
    assert.equal(threadClass(10, 13, 'libuv-worker'), 'libuv');
    assert.equal(threadClass(10, 14, 'MainThread'), 'native', "the QUIC library's worker inherits the main thread's name");
    // This process: its own thread is busy running this test, so the JS class has ticks or none yet, never undefined.
    const own = threadTicks([process.pid]);
    assert.ok((own.get('js') ?? -1) >= 0);
    assert.ok((own.get('v8') ?? 0) >= 0);
  });

  it('builds the tree from parent links, root first, and ignores other processes', () => {
    const s = (pid: number, ppid: number, ticks: number) => ({ pid, ppid, ticks, startTime: pid });
    const tree = processTree(10, [s(1, 0, 5), s(10, 1, 1), s(11, 10, 2), s(12, 11, 3), s(13, 1, 100)]);
    assert.deepEqual(tree.map((p) => p.pid), [10, 11, 12]);
    assert.deepEqual(processTree(99, [s(1, 0, 5)]), []);
  });

  it("counts a real child's CPU in its parent's tree", async () => {
    // A shell that starts a busy node child: the child's CPU must show up under the shell.
    const shell = spawn('sh', ['-c', `${process.execPath} -e "const t=Date.now(); while (Date.now()-t < 400);" ; sleep 5`], { stdio: 'ignore' });
    try {
      const deadline = Date.now() + 10_000;
      let ticks = 0;
      let members = 0;
      while (Date.now() < deadline) {
        const sample = sampleTrees([shell.pid!]);
        ticks = sample.ticks.get(shell.pid!) ?? 0;
        members = (sample.members.get(shell.pid!) ?? '').split(',').length;
        if (ticks >= 10 && members >= 2) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.ok(members >= 2, 'child not seen in the tree');
      assert.ok(ticks >= 10, `only ${ticks} ticks seen`);
      assert.ok(readStat(shell.pid!) !== null);
    } finally {
      shell.kill('SIGKILL');
      await once(shell, 'exit');
    }
  });
});
