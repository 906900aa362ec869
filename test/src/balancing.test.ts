/**
 * End-to-end load balancing: a standalone data plane (`--config`) in front of three real
 * HTTP/1.1 origins, driven over one reused HTTP/3 session with 32 requests in flight.
 *  - weights 1:2 across two backends split 3 000 requests within ±5 % (round-robin and random);
 *  - consistent-hash on `header:x-user` keeps each of 50 users on one backend for 10 requests;
 *  - sticky-cid keeps every request of one QUIC connection on one backend.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Http3ClientSession } from '@currentspace/http3';
import { ensureSelfSignedCert } from './harness/certs.ts';
import { DataPlane } from './harness/data-plane.ts';
import { freePort } from './harness/free-port.ts';
import { connectH3, h3Request } from './harness/h3-client.ts';
import { type Origin, startH1Origin } from './harness/origins.ts';

const IN_FLIGHT = 32;

/** Runs `count` jobs with at most IN_FLIGHT at once; results in job order. */
async function pooled<T>(count: number, job: (i: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      results[i] = await job(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, count) }, worker));
  return results;
}

describe('load balancing end to end', () => {
  let dir: string;
  let origins: Origin[];
  let dp: DataPlane;
  let port: number;
  let session: Http3ClientSession;

  /** GET `path` on the shared session; returns the origin that answered. */
  async function originOf(path: string, headers: Record<string, string> = {}, on: Http3ClientSession = session): Promise<string> {
    const reply = await h3Request(on, port, { path, headers });
    assert.equal(reply.status, 200, `${path}: ${reply.status} ${reply.body.toString('utf8')}`);
    return String(reply.headers['x-origin']);
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spooky-lb-'));
    const cert = ensureSelfSignedCert(dir);
    origins = await Promise.all(['a', 'b', 'c'].map((name) => startH1Origin(name)));
    const [a, b] = origins as [Origin, Origin, Origin];
    port = await freePort();
    const config = {
      version: 1,
      listen: { address: '127.0.0.1', port, tls: { cert: cert.cert, key: cert.key } },
      upstream: {
        rr: {
          route: { path_prefix: '/rr' },
          backends: [
            { id: 'a', address: a.url, weight: 1 },
            { id: 'b', address: b.url, weight: 2 },
          ],
        },
        rand: {
          route: { path_prefix: '/rand' },
          load_balancing: { type: 'random' },
          backends: [
            { id: 'a', address: a.url, weight: 1 },
            { id: 'b', address: b.url, weight: 2 },
          ],
        },
        hashed: {
          route: { path_prefix: '/hashed' },
          load_balancing: { type: 'consistent-hash', key: 'header:x-user' },
          backends: origins.map((o) => ({ id: o.name, address: o.url })),
        },
        sticky: {
          route: { path_prefix: '/sticky' },
          load_balancing: { type: 'sticky-cid' },
          backends: origins.map((o) => ({ id: o.name, address: o.url })),
        },
      },
    };
    const configPath = join(dir, 'spooky.json');
    writeFileSync(configPath, JSON.stringify(config));
    dp = await DataPlane.start({ config: configPath });
    await dp.proc.waitForLog((l) => l.msg === 'generation applied');
    session = await connectH3(port);
  });

  after(async () => {
    await session?.close().catch(() => undefined);
    await dp?.proc.stop();
    await Promise.all((origins ?? []).map((o) => o.close()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const prefix of ['/rr', '/rand']) {
    test(`weights 1:2 split 3 000 requests within ±5 % (${prefix})`, async () => {
      const served = await pooled(3000, (i) => originOf(`${prefix}/item/${i}`));
      const b = served.filter((o) => o === 'b').length / served.length;
      const a = served.filter((o) => o === 'a').length / served.length;
      assert.equal(a + b, 1, 'only the two weighted backends answer');
      assert.ok(Math.abs(b - 2 / 3) <= 0.05, `backend b took ${(b * 100).toFixed(1)} %`);
    });
  }

  test('consistent-hash on header:x-user keeps each of 50 users on one backend', async () => {
    const users = Array.from({ length: 50 }, (_, u) => `user-${u}`);
    const served = await pooled(500, (i) => {
      const user = users[i % 50] as string;
      return originOf(`/hashed/req/${i}`, { 'x-user': user }).then((origin) => ({ user, origin }));
    });
    const byUser = new Map<string, Set<string>>();
    for (const { user, origin } of served) byUser.set(user, (byUser.get(user) ?? new Set()).add(origin));
    for (const [user, seen] of byUser) assert.equal(seen.size, 1, `${user} went to ${[...seen].join(', ')}`);
    const used = new Set(served.map((s) => s.origin));
    assert.ok(used.size >= 2, `50 users should spread over backends, got ${[...used].join(', ')}`);
  });

  test('sticky-cid keeps the requests of one QUIC connection on one backend', async () => {
    const seen = new Set<string>();
    for (let c = 0; c < 12; c++) {
      const own = await connectH3(port);
      try {
        const origins = await pooled(5, (i) => originOf(`/sticky/${i}`, {}, own));
        assert.equal(new Set(origins).size, 1, `connection ${c} went to ${origins.join(', ')}`);
        seen.add(origins[0] as string);
      } finally {
        await own.close().catch(() => undefined);
      }
    }
    // 12 connections all hashing to one of three backends: p ≈ 6·10⁻⁶.
    assert.ok(seen.size >= 2, `connections should spread, all went to ${[...seen].join(', ')}`);
  });
});
