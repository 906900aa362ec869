/** Route matchers, traffic splits, mirroring, balancing keys and health checks in the schema. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalJson } from './canonical.ts';
import { parseConfig } from './parse-config.ts';

const listen = { address: '127.0.0.1', port: 9889, tls: { cert: 'c', key: 'k' } };
const backends = [{ id: 'a', address: 'http://127.0.0.1:1' }];

function issueCodes(upstream: Record<string, unknown>, extra: Record<string, unknown> = {}): string[] {
  const r = parseConfig({ listen, upstream, ...extra });
  return r.ok ? [] : r.issues.map((i) => `${i.pointer} ${i.code}`);
}

test('matchers, split, mirror, hash key and health checks are accepted and normalized', () => {
  const r = parseConfig({
    listen,
    upstream: {
      api: {
        route: {
          path_prefix: '/api',
          headers: [{ name: 'X-Tenant', exact: 'blue' }, { name: 'x-debug', present: false }],
          query: [{ name: 'v', regex: '[0-9]+' }],
          cookies: [{ name: 'session', prefix: 'beta-' }],
        },
        load_balancing: { type: 'consistent-hash', key: 'header:x-user' },
        backends: [{ id: 'a', address: 'http://127.0.0.1:1', health_check: { path: '/healthz', interval: 1000 } }],
        traffic_split: [{ upstream: 'api', weight: 90 }, { upstream: 'canary', weight: 10 }],
        mirror: { upstream: 'shadow' },
      },
      canary: { backends },
      shadow: { backends, load_balancing: { type: 'least-connections' } },
    },
  });
  assert.deepEqual(r.ok ? [] : r.issues, []);
  assert.ok(r.ok);
  const api = r.config.upstream['api']!;
  assert.deepEqual(api.route?.headers, [{ name: 'x-tenant', exact: 'blue' }, { name: 'x-debug', present: false }]);
  assert.deepEqual(api.backends[0]?.health_check, { path: '/healthz', interval: 1000, timeout_ms: 1000, failure_threshold: 3, success_threshold: 2, cooldown_ms: 5000 });
  assert.equal(api.mirror?.percent, 100);
  assert.equal(r.config.upstream['canary']?.route, null, 'an upstream without route is only a split/mirror target');
  const again = parseConfig(JSON.parse(canonicalJson(r.config)));
  assert.ok(again.ok);
  assert.deepEqual(again.config, r.config, 'canonical form round-trips');
});

test('matcher rules: exactly one kind, no duplicates, token header names, bounded regex', () => {
  assert.deepEqual(
    issueCodes({
      a: {
        route: {
          headers: [{ name: 'x', exact: '1', prefix: '2' }, { name: 'bad name', present: true }, { name: 'x', present: true }],
          query: [{ name: 'q' }, { name: 'r', regex: '(a+)+' }],
        },
        backends,
      },
    }).sort(),
    [
      '/upstream/a/route/headers/0 route.matcher.kind',
      '/upstream/a/route/headers/1/name route.matcher.name',
      '/upstream/a/route/headers/2/name route.matcher.duplicate',
      '/upstream/a/route/query/0 route.matcher.kind',
      '/upstream/a/route/query/1/regex route.matcher.regex_cost',
    ],
  );
});

test('routes differing only by matchers are distinct; identical ones are duplicates', () => {
  assert.deepEqual(issueCodes({ a: { route: { headers: [{ name: 'x', exact: '1' }] }, backends }, b: { route: {}, backends } }), []);
  assert.deepEqual(issueCodes({ a: { route: { headers: [{ name: 'X', exact: '1' }] }, backends }, b: { route: { headers: [{ name: 'x', exact: '1' }] }, backends } }), [
    '/upstream/b/route route.duplicate',
  ]);
});

test('split and mirror targets must exist; splits do not chain; no self-mirror', () => {
  assert.deepEqual(
    issueCodes({
      a: { route: { path_prefix: '/a' }, backends, traffic_split: [{ upstream: 'nope', weight: 1 }, { upstream: 'b', weight: 1 }], mirror: { upstream: 'a' } },
      b: { route: { path_prefix: '/b' }, backends, traffic_split: [{ upstream: 'c', weight: 1 }], mirror: { upstream: 'zzz' } },
      c: { backends },
    }).sort(),
    [
      '/upstream/a/mirror/upstream upstream.mirror.self',
      '/upstream/a/traffic_split/0/upstream upstream.split.unknown',
      '/upstream/a/traffic_split/1/upstream upstream.split.nested',
      '/upstream/b/mirror/upstream upstream.mirror.unknown',
    ],
  );
});

test('balancing key: valid forms only, and only for consistent-hash', () => {
  assert.deepEqual(issueCodes({ a: { route: {}, backends, load_balancing: { type: 'consistent-hash', key: 'cookie:sid' } } }), []);
  assert.deepEqual(issueCodes({ a: { route: {}, backends, load_balancing: { type: 'consistent-hash', key: 'header' } } }), [
    '/upstream/a/load_balancing/key schema.format',
  ]);
  assert.deepEqual(issueCodes({ a: { route: {}, backends, load_balancing: { type: 'round-robin', key: 'path' } } }), [
    '/upstream/a/load_balancing/key load_balancing.key.unused',
  ]);
  assert.deepEqual(issueCodes({ a: { route: {}, backends } }, { load_balancing: { type: 'random', key: 'path' } }), [
    '/load_balancing/key load_balancing.key.unused',
  ]);
});

test('health check timeout must fit in its interval', () => {
  assert.deepEqual(issueCodes({ a: { route: {}, backends: [{ id: 'a', address: 'http://h:1', health_check: { interval: 500, timeout_ms: 900 } }] } }), [
    '/upstream/a/backends/0/health_check/timeout_ms health.timeout_exceeds_interval',
  ]);
});
