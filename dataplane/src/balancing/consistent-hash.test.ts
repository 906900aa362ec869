import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { allBackends, eligibleBackends } from './candidates.ts';
import { createConsistentHash } from './consistent-hash.ts';
import { fnv1a64Hex, ringHash } from './fnv1a64.ts';
import { buildRing, lookupRing, pointCounts, RING_POINTS, restrictRing } from './hash-ring.ts';
import { keyHash } from './key-hash.ts';
import { backendsOf, ctxOf, distinctRequest, requestOf } from './testing/balancer-fixtures.ts';

const KEYS = 20_000;

function assignments(pick: (i: number) => number | null): number[] {
  return Array.from({ length: KEYS }, (_, i) => pick(i) as number);
}

describe('consistent-hash', () => {
  test('one of N backends leaving moves only its keys, at most 1/N + ε of them', () => {
    for (const n of [3, 5, 10]) {
      const ch = createConsistentHash(backendsOf(...new Array<number>(n).fill(100)), 'header:x-user');
      const before = assignments((i) => ch.pick(allBackends(n), ctxOf(distinctRequest(i))));
      const leaving = 1;
      const rest = eligibleBackends(n, (i) => i !== leaving);
      const after = assignments((i) => ch.pick(rest, ctxOf(distinctRequest(i))));
      let moved = 0;
      for (let i = 0; i < KEYS; i++) {
        if (before[i] === after[i]) continue;
        moved++;
        assert.equal(before[i], leaving, `key ${i} moved from a backend that stayed`);
      }
      assert.ok(moved / KEYS <= 1 / n + 0.02, `n=${n}: moved ${moved / KEYS}`);
    }
  });

  test('the ring is built once per membership, never per request', () => {
    const ch = createConsistentHash(backendsOf(1, 1, 1, 1), 'path');
    assert.equal(ch.ringBuilds, 0, 'lazy: nothing built before the first pick');
    for (let i = 0; i < 500; i++) ch.pick(allBackends(4), ctxOf(distinctRequest(i)));
    assert.equal(ch.ringBuilds, 1);
    for (let i = 0; i < 500; i++) ch.pick([0, 2, 3], ctxOf(distinctRequest(i))); // a new array each time is fine
    assert.equal(ch.ringBuilds, 2, 'one derived ring for the degraded membership');
    for (let i = 0; i < 100; i++) ch.pick(allBackends(4), ctxOf(distinctRequest(i)));
    for (let i = 0; i < 100; i++) ch.pick([0, 2, 3].slice(), ctxOf(distinctRequest(i)));
    assert.equal(ch.ringBuilds, 2, 'memberships seen before come from the cache');
    ch.pick([1, 2], ctxOf(requestOf()));
    assert.equal(ch.ringBuilds, 3);
  });

  test('a retry walks on to the next backend on the ring, deterministically', () => {
    const ch = createConsistentHash(backendsOf(1, 1, 1), 'path');
    const request = requestOf({ path: '/cart' });
    const first = ch.pick(allBackends(3), ctxOf(request)) as number;
    const second = ch.pick(allBackends(3), ctxOf(request, new Set([first])));
    assert.notEqual(second, first);
    assert.equal(ch.pick(allBackends(3), ctxOf(request, new Set([first]))), second);
  });

  test('keys fall back to authority, then path, then method', () => {
    const ch = createConsistentHash(backendsOf(1, 1, 1, 1, 1, 1, 1, 1), 'header:x-user');
    const byAuthority = (authority: string) => ch.pick(allBackends(8), ctxOf(requestOf({ authority, path: `/${authority}` })));
    const spread = new Set(Array.from({ length: 64 }, (_, i) => byAuthority(`h${i}.example`)));
    assert.ok(spread.size > 4, 'no x-user header: hashed by authority');
    const same = new Set(Array.from({ length: 20 }, (_, i) => ch.pick(allBackends(8), ctxOf(requestOf({ authority: 'one.example', path: `/p${i}` })))));
    assert.equal(same.size, 1, 'same authority, different paths → same backend');
  });

  test('sticky-cid keys on the connection id, else on the client address:port', () => {
    const sc = createConsistentHash(backendsOf(1, 1, 1, 1, 1, 1, 1, 1), null, 'sticky-cid');
    assert.equal(sc.type, 'sticky-cid');
    const onConn = (connectionId: string | null, path: string, port = 1) =>
      sc.pick(allBackends(8), ctxOf(requestOf({ connectionId, path, remotePort: port })));
    for (let c = 0; c < 20; c++) {
      const first = onConn(`c${c}`, '/a');
      for (const path of ['/b', '/c', '/d']) assert.equal(onConn(`c${c}`, path, 2), first, 'requests of one connection stick');
    }
    const spread = new Set(Array.from({ length: 64 }, (_, c) => onConn(`c${c}`, '/')));
    assert.ok(spread.size > 4);
    const tcp = new Set(Array.from({ length: 64 }, (_, p) => onConn(null, '/', 50_000 + p)));
    assert.ok(tcp.size > 4, 'without a connection id, address:port keys the connection');
  });
});

describe('hash ring', () => {
  test('point counts: RING_POINTS split by weight, at least one each', () => {
    assert.deepEqual(pointCounts(backendsOf(1, 1)), [8192, 8192]);
    assert.deepEqual(pointCounts(backendsOf(1, 3)), [4096, 12288]);
    const tiny = pointCounts(backendsOf(1, 10_000, 10_000));
    assert.equal(tiny[0], 1);
    assert.ok(tiny.reduce((a, b) => a + b, 0) <= RING_POINTS);
  });
  test('ring is sorted and owned; lookup wraps around', () => {
    const ring = buildRing(backendsOf(1, 2));
    for (let k = 1; k < ring.points.length; k++) assert.ok((ring.points[k - 1] as number) <= (ring.points[k] as number));
    const last = ring.points[ring.points.length - 1] as number;
    assert.equal(lookupRing(ring, last + 1, null), ring.owners[0]);
    assert.equal(lookupRing(ring, 0, null), ring.owners[0]);
    assert.equal(lookupRing(ring, ring.points[5] as number, null), ring.owners[5]);
    assert.equal(lookupRing(ring, 0, new Set([0, 1])), null);
    assert.equal(lookupRing(restrictRing(ring, new Uint8Array(2)), 1, null), null, 'empty ring');
  });
});

describe('fnv1a64', () => {
  test('reference vectors (64-bit)', () => {
    assert.equal(fnv1a64Hex(''), 'cbf29ce484222325');
    assert.equal(fnv1a64Hex('a'), 'af63dc4c8601ec8c');
    assert.equal(fnv1a64Hex('foobar'), '85944171f73967e8');
  });
  test('UTF-8 bytes, as a BigInt reference computes them', () => {
    const reference = (s: string): string => {
      let h = 0xcbf29ce484222325n;
      for (const b of new TextEncoder().encode(s)) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
      return h.toString(16).padStart(16, '0');
    };
    for (const s of ['héllo', '日本語', '😀x', '\ud800z', 'http://127.0.0.1:8080-12']) assert.equal(fnv1a64Hex(s), reference(s), s);
  });
  test('ringHash is a 53-bit integer', () => {
    for (const s of ['', 'a', 'http://10.0.0.1:8080-0']) {
      const h = ringHash(s);
      assert.ok(Number.isSafeInteger(h) && h >= 0);
    }
  });
});

describe('ring lookup and key hash (fast paths)', () => {
  test('bucketed lookup = first point ≥ hash over the whole ring (wrapping)', () => {
    const ring = buildRing(backendsOf(100, 150, 200, 1, 10_000));
    const plain = (hash: number): number => {
      for (let j = 0; j < ring.points.length; j++) if ((ring.points[j] as number) >= hash) return ring.owners[j] as number;
      return ring.owners[0] as number;
    };
    const probes = [0, 2 ** 53 - 1, ring.points[0] as number, ring.points[ring.points.length - 1] as number, (ring.points[17] as number) + 1];
    for (let i = 0; i < 3000; i++) probes.push(keyHash(`probe-${i}`));
    for (const h of probes) assert.equal(lookupRing(ring, h, null), plain(h), `hash ${h}`);
  });
  test('keyHash: 53-bit integers, deterministic, spread over the ring', () => {
    const buckets = new Array<number>(16).fill(0);
    for (const s of ['', 'a', 'ab', 'abc', 'héllo', '😀x', 'user-1', 'user-2']) {
      const h = keyHash(s);
      assert.ok(Number.isInteger(h) && h >= 0 && h < 2 ** 53, s);
      assert.equal(keyHash(s), h);
    }
    for (let i = 0; i < 16_000; i++) {
      const h = keyHash(`user-${i}`);
      buckets[Math.floor(h / 2 ** 49)] = (buckets[Math.floor(h / 2 ** 49)] ?? 0) + 1;
    }
    for (const c of buckets) assert.ok(c > 800 && c < 1200, `bucket count ${c}`);
    assert.notEqual(keyHash('ab'), keyHash('ba'));
  });
});
