/**
 * The hashed route index: colliding hashes (forced by fixing the seeds and searching for
 * equal-length strings with equal hashes) must cost a probe, never a wrong route; prefixes
 * longer than the length bit mask; the probe table itself.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Route } from '@spooky/config';
import { createSlots, findSlot, hashBackward, hashForward, insertSlot, nextSlot, slotValue } from './hash-slots.ts';
import { compileRouteTable } from './route-table.ts';

const SEEDS = { path: 0x1234567, host: 0x7654321 };
const r = (host: string | null, path_prefix: string, method: string | null = null): Route => ({ host, path_prefix, method, headers: [], query: [], cookies: [] });

/** Two distinct strings `make(i)` with equal `hash` (birthday search; all the same length). */
function collision(make: (i: number) => string, hash: (s: string) => number): [string, string] {
  const seen = new Map<number, string>();
  for (let i = 0; i < 2_000_000; i++) {
    const s = make(i);
    const h = hash(s);
    const other = seen.get(h);
    if (other !== undefined) return [other, s];
    seen.set(h, s);
  }
  throw new Error('no collision found');
}

const pad = (i: number): string => i.toString(36).padStart(5, '0');

describe('route index under hash collisions', () => {
  const [p1, p2] = collision((i) => `/c${pad(i)}`, (s) => hashForward(s, SEEDS.path));
  const [s1, s2] = collision((i) => `s${pad(i)}.test`, (s) => hashBackward(s, SEEDS.host));

  test('colliding prefixes in one bucket each route to their own upstream', () => {
    assert.notEqual(p1, p2);
    assert.equal(p1.length, p2.length);
    const table = compileRouteTable([{ upstream: 'one', route: r(null, p1) }, { upstream: 'two', route: r(null, p2) }, { upstream: 'root', route: r(null, '/') }], [], SEEDS);
    assert.equal(table.lookup(null, `${p1}/x`, 'GET')?.upstream, 'one');
    assert.equal(table.lookup(null, p2, 'GET')?.upstream, 'two');
    assert.equal(table.explain(null, `${p2}/y`, 'GET').winner?.upstream, 'two');
  });

  test('a path whose prefix only collides with a configured one does not match it', () => {
    const table = compileRouteTable([{ upstream: 'one', route: r('a.test', p1) }], [], SEEDS);
    assert.equal(table.lookup('a.test', `${p1}/x`, 'GET')?.upstream, 'one');
    assert.equal(table.lookup('a.test', `${p2}/x`, 'GET'), null);
    assert.equal(table.lookup('a.test', p2, 'GET'), null);
  });

  test('colliding wildcard suffixes each match only their own subdomains', () => {
    assert.equal(s1.length, s2.length);
    const only = compileRouteTable([{ upstream: 'w1', route: r(`*.${s1}`, '/') }], [], SEEDS);
    assert.equal(only.lookup(`x.${s1}`, '/', 'GET')?.upstream, 'w1');
    assert.equal(only.lookup(`x.${s2}`, '/', 'GET'), null);
    const both = compileRouteTable([{ upstream: 'w1', route: r(`*.${s1}`, '/') }, { upstream: 'w2', route: r(`*.${s2}`, '/') }], [], SEEDS);
    assert.equal(both.lookup(`a.b.${s2}`, '/', 'GET')?.upstream, 'w2');
    assert.equal(both.lookup(`a.b.${s1}`, '/', 'GET')?.upstream, 'w1');
    assert.equal(both.lookup(s1, '/', 'GET'), null, 'never the apex');
  });
});

describe('route index lengths', () => {
  test('prefixes longer than the length mask (> 29 characters) and trailing-slash prefixes', () => {
    const long = '/a-rather-long-segment/and-another-one';
    const longer = `${long}/plus-a-third-segment`;
    const table = compileRouteTable([
      { upstream: 'long', route: r(null, long) },
      { upstream: 'longer', route: r('h.test', longer) },
      { upstream: 'slash', route: r(null, '/s/') },
      { upstream: 'root', route: r(null, '/') },
    ]);
    assert.equal(table.lookup('h.test', `${longer}/x`, 'GET')?.upstream, 'longer');
    assert.equal(table.lookup('h.test', `${long}/plus`, 'GET')?.upstream, 'long');
    assert.equal(table.lookup(null, long, 'GET')?.upstream, 'long');
    assert.equal(table.lookup(null, `${long}x`, 'GET')?.upstream, 'root');
    assert.equal(table.lookup(null, '/s/', 'GET')?.upstream, 'slash');
    assert.equal(table.lookup(null, '/s//x', 'GET')?.upstream, 'slash');
    assert.equal(table.lookup(null, '/s/x', 'GET')?.upstream, 'root');
  });

  test('a table without a `/` route matches nothing shorter than its prefixes', () => {
    const table = compileRouteTable([{ upstream: 'api', route: r(null, '/api') }]);
    assert.equal(table.lookup(null, '/', 'GET'), null);
    assert.equal(table.lookup(null, '/ap', 'GET'), null);
    assert.equal(table.lookup(null, '/api/', 'GET')?.upstream, 'api');
  });
});

describe('hash slots', () => {
  test('equal keys are all found, in insertion order, across the wrap-around', () => {
    const slots = createSlots(8);
    const key = 0x5a5a5a5a;
    for (let v = 0; v < 8; v++) insertSlot(slots, key, v);
    const values: number[] = [];
    for (let p = findSlot(slots, key); p !== -1; p = nextSlot(slots, key, p)) values.push(slotValue(slots, p));
    assert.deepEqual(values, [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.equal(findSlot(slots, key + 1), -1);
  });

  test('at most half full', () => {
    for (const n of [0, 1, 2, 3, 5, 100, 1000]) assert.ok(createSlots(n).length / 2 >= Math.max(2, 2 * n), `${n}`);
  });
});
