import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { stringify as toYaml } from 'yaml';
import { canonicalJson, DIGEST_PATTERN, digest } from './canonical.ts';
import { parseConfig, parseConfigText } from './parse-config.ts';

const base = {
  listen: { address: '127.0.0.1', port: 9889, tls: { cert: 'c.pem', key: 'k.pem' } },
  upstream: {
    b: { route: { path_prefix: '/b' }, backends: [{ id: 'x', address: 'http://127.0.0.1:1' }] },
    a: { route: { host: 'a.example', path_prefix: '/' }, backends: [{ id: 'y', address: 'https://127.0.0.1:2', weight: 3 }] },
  },
};

function shuffleKeys(value: unknown, rand: () => number): unknown {
  if (Array.isArray(value)) return value.map((v) => shuffleKeys(v, rand));
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).sort(() => rand() - 0.5);
    return Object.fromEntries(entries.map(([k, v]) => [k, shuffleKeys(v, rand)]));
  }
  return value;
}

test('canonical JSON sorts keys at every level and has no whitespace', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: null } }), '{"a":{"d":[{"y":2,"z":1}]},"b":1}', 'null members are left out');
});

test('digest is sha256:<hex> and stable across key order, format and spelled-out defaults', () => {
  const r1 = parseConfig(base);
  assert.ok(r1.ok);
  const d = digest(r1.config);
  assert.match(d, DIGEST_PATTERN);
  const r2 = parseConfigText(toYaml(base));
  assert.ok(r2.ok);
  assert.equal(digest(r2.config), d);
  const explicit = structuredClone(base) as typeof base & { load_balancing: unknown; version: number };
  explicit.version = 1;
  explicit.load_balancing = { type: 'round-robin' };
  const r3 = parseConfig(explicit);
  assert.ok(r3.ok);
  assert.equal(digest(r3.config), d);
  assert.equal(digest(canonicalJson(r1.config)), d, 'digest of the canonical bytes equals digest of the config');
});

test('property: key order never changes the digest; a changed value always does', () => {
  const r = parseConfig(base);
  assert.ok(r.ok);
  const d = digest(r.config);
  fc.assert(
    fc.property(fc.integer(), fc.integer({ min: 1, max: 65535 }), (seed, port) => {
      let s = seed;
      const rand = () => {
        s = (s * 1103515245 + 12345) & 0x7fffffff;
        return s / 0x7fffffff;
      };
      const shuffled = parseConfig(shuffleKeys(base, rand));
      assert.ok(shuffled.ok);
      assert.equal(digest(shuffled.config), d);
      const moved = parseConfig({ ...base, listen: { ...base.listen, port } });
      assert.ok(moved.ok);
      assert.equal(digest(moved.config) === d, port === 9889);
    }),
    { numRuns: 200 },
  );
});

test('the canonical document is a valid config that parses back to itself', () => {
  const r = parseConfig(base);
  assert.ok(r.ok);
  const bytes = canonicalJson(r.config);
  const again = parseConfigText(bytes, 'json');
  assert.deepEqual(again.ok ? [] : again.issues, []);
  assert.ok(again.ok);
  assert.deepEqual(again.config, r.config);
  assert.equal(canonicalJson(again.config), bytes);
});
