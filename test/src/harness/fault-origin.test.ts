/**
 * The fault origin fails exactly its share, in a fixed spread (not by chance), per share: the
 * default share, a `/fault/<percent>/` override, and a reset that destroys the connection.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { describe, test } from 'node:test';
import { startFaultOrigin } from './fault-origin.ts';

function get(port: number, path: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}

describe('fault origin', () => {
  test('a share of 0.2 fails every fifth request with 503; /fault/50/ fails every second', async () => {
    const o = await startFaultOrigin('f', { failShare: 0.2 });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) statuses.push(await get(o.port, `/x/${i}`));
      assert.deepEqual(statuses, [200, 200, 200, 200, 503, 200, 200, 200, 200, 503]);
      const half: number[] = [];
      for (let i = 0; i < 4; i++) half.push(await get(o.port, `/fault/50/${i}`));
      assert.deepEqual(half, [200, 503, 200, 503]);
      assert.deepEqual(o.counts, { ok: 10, failed: 4 });
      o.setFailShare(0);
      assert.equal(await get(o.port, '/now-healthy'), 200);
    } finally {
      await o.close();
    }
  });

  test('kind reset destroys the connection before any response byte', async () => {
    const o = await startFaultOrigin('r', { failShare: 1, kind: 'reset' });
    try {
      assert.equal(await get(o.port, '/a'), 0);
      assert.equal(o.counts.failed, 1);
    } finally {
      await o.close();
    }
  });
});
