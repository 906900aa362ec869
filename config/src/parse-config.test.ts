import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { MAX_CONFIG_BYTES, parseConfig, parseConfigText } from './parse-config.ts';
import type { ConfigIssue } from './types.ts';

const examplesDir = join(import.meta.dirname, '..', 'examples');

const minimal = {
  version: 1,
  listen: { address: '127.0.0.1', port: 9889, tls: { cert: 'c.pem', key: 'k.pem' } },
  upstream: { app: { route: { path_prefix: '/' }, backends: [{ id: 'a', address: 'http://127.0.0.1:8080' }] } },
};

function issuesOf(input: unknown): ConfigIssue[] {
  const r = typeof input === 'string' ? parseConfigText(input) : parseConfig(input);
  assert.equal(r.ok, false, 'expected the config to be rejected');
  return r.ok ? [] : [...r.issues];
}

function codes(issues: ConfigIssue[]): string[] {
  return issues.map((i) => `${i.pointer} ${i.code}`);
}

for (const file of readdirSync(examplesDir)) {
  test(`example ${file} is accepted`, () => {
    const r = parseConfigText(readFileSync(join(examplesDir, file), 'utf8'));
    assert.deepEqual(r.ok ? [] : r.issues, []);
  });
}

test('defaults are filled and listen becomes the one listener', () => {
  const r = parseConfig({ listen: { tls: { cert: 'c', key: 'k' } }, upstream: minimal.upstream });
  assert.ok(r.ok);
  assert.deepEqual(r.config.listeners, [{ protocol: 'http3', address: '0.0.0.0', port: 9889, tls: { cert: 'c', key: 'k' } }]);
  assert.equal(r.config.version, 1);
  assert.deepEqual(r.config.load_balancing, { type: 'round-robin', key: null });
  assert.equal(r.config.upstream['app']?.backends[0]?.weight, 100);
  assert.equal(r.config.upstream_tls.verify_certificates, true);
  assert.equal(r.config.performance.upstream_connect_timeout_ms, 3000);
});

test('route and backend forms are normalized', () => {
  const r = parseConfig({
    ...minimal,
    load_balancing: { type: 'random' },
    upstream: {
      b: {
        route: { host: 'API.Example.COM.', path_prefix: '/api/', method: 'get' },
        backends: [{ id: 'x', address: '10.0.0.1:8443' }, { id: 'y', address: 'http://[::1]' }],
      },
    },
  });
  assert.ok(r.ok);
  const up = r.config.upstream['b']!;
  assert.deepEqual(up.route, { host: 'api.example.com', path_prefix: '/api', method: 'GET', headers: [], query: [], cookies: [] });
  assert.deepEqual(up.backends.map((b) => b.address), ['https://10.0.0.1:8443', 'http://[::1]:80']);
  assert.equal(up.load_balancing.type, 'random', 'global load_balancing is the upstream default');
});

test('unknown keys are errors at every level, with JSON Pointers', () => {
  const issues = issuesOf({
    ...minimal,
    extra: true,
    listen: { ...minimal.listen, tls: { cert: 'c', key: 'k', pass: 'x' } },
    upstream: { app: { ...minimal.upstream.app, route: { path_prefix: '/', hostname: 'x' } } },
  });
  assert.deepEqual(
    codes(issues).sort(),
    ['/extra schema.unknown_key', '/listen/tls/pass schema.unknown_key', '/upstream/app/route/hostname schema.unknown_key'].sort(),
  );
});

test('schema violations name the field and a stable code', () => {
  const issues = issuesOf(
    'listen: {port: 70000, tls: {cert: c, key: k, pass: x}}\nupstream: {app: {route: {path_prefix: api}, load_balancing: {type: fastest}, backends: []}}',
  );
  assert.deepEqual(codes(issues).sort(), [
    '/listen/port schema.range',
    '/listen/tls/pass schema.unknown_key',
    '/upstream/app/backends schema.range',
    '/upstream/app/load_balancing/type schema.enum',
    '/upstream/app/route/path_prefix schema.format',
  ]);
});

test('semantic checks: duplicate routes, bad addresses, duplicate ids, timeout order, listeners', () => {
  const issues = issuesOf({
    listen: minimal.listen,
    listeners: [minimal.listen],
    performance: { upstream_headers_timeout_ms: 100, upstream_body_idle_timeout_ms: 50 },
    upstream: {
      a: { route: { path_prefix: '/x' }, backends: [{ id: 'b1', address: 'ftp://h:1' }] },
      'b-c': { route: { path_prefix: '/x/' }, backends: [{ id: 'b1', address: 'h:1' }, { id: 'b1', address: 'https://h:1' }] },
    },
  });
  // Only given timeouts are compared; the connect default (3000) is clamped to the given 100.
  assert.deepEqual(codes(issues).sort(), [
    '/listeners listener.ambiguous',
    '/performance/upstream_headers_timeout_ms timeouts.order',
    '/upstream/a/backends/0/address backend.address.invalid',
    '/upstream/b-c/backends/1/address backend.address.duplicate',
    '/upstream/b-c/backends/1/id backend.id.duplicate',
    '/upstream/b-c/route route.duplicate',
  ].sort());
});

test('a literal outside a union is reported (it used to give a refusal without issues)', () => {
  const issues = issuesOf({ ...minimal, listen: { ...minimal.listen, protocol: ['http3'] } });
  assert.deepEqual(codes(issues), ['/listen/protocol schema.enum']);
  assert.match(issues[0]!.message, /"http3"/);
});

test('upstream names are checked with their own code', () => {
  const issues = issuesOf({ ...minimal, upstream: { 'a/b': minimal.upstream.app } });
  assert.deepEqual(codes(issues), ['/upstream/a~1b upstream.name.invalid']);
});

test('hosts: wildcard and IP forms accepted, junk rejected', () => {
  for (const host of ['*.example.com', 'a-b.example', '127.0.0.1', '[::1]']) {
    const r = parseConfig({ ...minimal, upstream: { a: { route: { host }, backends: minimal.upstream.app.backends } } });
    assert.ok(r.ok, `${host} should be accepted`);
  }
  for (const host of ['*', 'a..b', 'ex ample.com', '*.*.com', '-a.com']) {
    const issues = issuesOf({ ...minimal, upstream: { a: { route: { host }, backends: minimal.upstream.app.backends } } });
    assert.deepEqual(codes(issues), ['/upstream/a/route/host route.host.invalid'], host);
  }
});

test('no listener, no upstream, duplicate binds', () => {
  assert.deepEqual(codes(issuesOf({ upstream: minimal.upstream })), [' listener.missing']);
  assert.deepEqual(codes(issuesOf({ listen: minimal.listen, upstream: {} })), ['/upstream upstream.missing']);
  assert.deepEqual(codes(issuesOf({ listeners: [minimal.listen, minimal.listen], upstream: minimal.upstream })), [
    '/listeners/1/port listener.duplicate_bind',
  ]);
});

test('text decoding: syntax errors, duplicate YAML keys, size budget, newer versions', () => {
  assert.deepEqual(codes(issuesOf('{"listen": ')), ['/listen config.syntax']);
  assert.deepEqual(codes(issuesOf('listen: {}\nlisten: {}\n')), ['/listen config.syntax']);
  assert.deepEqual(codes(issuesOf('- a\n- b\n')), [' schema.type']);
  assert.deepEqual(codes(issuesOf(`# ${'x'.repeat(MAX_CONFIG_BYTES)}`)), [' config.too_large']);
  assert.deepEqual(codes(issuesOf({ ...minimal, version: 2 })), ['/version version.unsupported']);
  const bomb = `a: &a [x,x,x,x,x,x,x,x,x,x]\n${Array.from({ length: 12 }, (_, i) => `b${i}: &b${i} [${Array(10).fill(i === 0 ? '*a' : `*b${i - 1}`).join(',')}]`).join('\n')}\n`;
  assert.deepEqual(codes(issuesOf(bomb)), [' config.alias_limit']);
});

test('issue messages never echo values (they may be secrets)', () => {
  const secret = 'sk_live_supersecret';
  const issues = issuesOf({ ...minimal, listen: { ...minimal.listen, tls: { cert: 'c', key: 'k', [secret]: secret } }, token: secret });
  for (const i of issues) assert.ok(!i.message.includes(secret.slice(3)) || i.code === 'schema.unknown_key');
  const bad = issuesOf({ ...minimal, upstream: { a: { route: {}, backends: [{ id: 'a', address: `https://user:${secret}@h:1` }] } } });
  assert.ok(bad.every((i) => !i.message.includes(secret)));
});

test('connection limits: defaults filled, ranges and order checked', () => {
  const r = parseConfig(minimal);
  assert.ok(r.ok);
  const p = r.config.performance;
  assert.deepEqual(
    [
      p.tls_handshake_timeout_ms,
      p.client_header_timeout_ms,
      p.client_body_idle_timeout_ms,
      p.client_idle_timeout_ms,
      p.max_active_connections,
      p.max_connections_per_ip,
      p.new_connections_per_sec,
      p.new_connections_burst,
    ],
    [10_000, 10_000, 10_000, 60_000, 10_000, 256, 1_000, 2_000],
  );
  const bad = issuesOf({ ...minimal, performance: { tls_handshake_timeout_ms: 0, new_connections_burst: 0.5, max_connections_per_ip: '3' } });
  assert.deepEqual(codes(bad).sort(), [
    '/performance/max_connections_per_ip schema.type',
    '/performance/new_connections_burst schema.type',
    '/performance/tls_handshake_timeout_ms schema.range',
  ]);
  const order = issuesOf({ ...minimal, performance: { max_active_connections: 10, max_connections_per_ip: 11 } });
  assert.deepEqual(codes(order), ['/performance/max_connections_per_ip connections.order']);
});
