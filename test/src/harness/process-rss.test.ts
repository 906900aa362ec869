/**
 * The RSS probe finds the serving process whichever process model the data plane has: the
 * spawned process itself, or its node child (a supervisor's cluster worker).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { RssProbe, rssBytes, servingPids } from './process-rss.ts';

/** A node process that forks `children` node children and prints their PIDs, then waits. */
async function tree(children: number): Promise<{ pid: number; kids: number[]; stop: () => Promise<void> }> {
  const script = `
    const { fork } = require('node:child_process');
    const kids = Array.from({ length: ${children} }, () => fork('-e', ['setInterval(() => {}, 1000)'], { execArgv: [] }));
    Promise.all(kids.map((k) => new Promise((r) => k.once('spawn', r)))).then(() => console.log(JSON.stringify(kids.map((k) => k.pid))));
    // Exit only once every child was reaped (its 'exit'): then its /proc entry is gone.
    process.on('SIGTERM', () => {
      Promise.all(kids.map((k) => (k.exitCode !== null || k.signalCode !== null ? null : new Promise((r) => k.once('exit', r))))).then(() => process.exit(0));
      for (const k of kids) k.kill('SIGKILL');
    });
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(child.stdout!, 'data', { signal: AbortSignal.timeout(10_000) })) as [Buffer];
  const kids = JSON.parse(line.toString()) as number[];
  return {
    pid: child.pid!,
    kids,
    stop: async () => {
      child.kill('SIGTERM');
      await once(child, 'exit', { signal: AbortSignal.timeout(10_000) });
    },
  };
}

test('without children the serving process is the spawned one; with node children, they are', async () => {
  const alone = await tree(0);
  const pair = await tree(2);
  try {
    assert.deepEqual(servingPids(alone.pid), [alone.pid]);
    assert.deepEqual(servingPids(pair.pid), [...pair.kids].sort((a, b) => a - b));
    const rss = rssBytes(pair.kids[0]!);
    assert.ok(rss !== null && rss > 1024 * 1024, `VmRSS of a node child: ${rss}`);
    const probe = new RssProbe(pair.pid, 20);
    const peak = probe.stop();
    assert.ok(peak.maxMB > 1 && peak.samples >= 1, JSON.stringify(peak));
  } finally {
    await alone.stop();
    await pair.stop();
  }
  assert.equal(rssBytes(pair.kids[0]!), null, 'a process that is gone has no RSS');
});
