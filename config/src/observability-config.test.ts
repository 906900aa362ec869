import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalJson, digest } from './canonical.ts';
import { parseConfig } from './parse-config.ts';
import type { Config, ConfigIssue } from './types.ts';

const listen = { address: '127.0.0.1', port: 9889, tls: { cert: 'c.pem', key: 'k.pem' } };
const backends = [{ id: 'a', address: 'http://127.0.0.1:8080' }];

function config(extra: Record<string, unknown>): unknown {
  return { listen, upstream: { api: { route: { path_prefix: '/' }, backends } }, ...extra };
}

function accept(input: unknown): Config {
  const r = parseConfig(input);
  assert.deepEqual(r.ok ? [] : r.issues, []);
  assert.ok(r.ok);
  const again = parseConfig(JSON.parse(canonicalJson(r.config)));
  assert.ok(again.ok, 'the canonical form is a valid config');
  assert.equal(digest(again.config), digest(r.config), 'the canonical form means the same');
  return r.config;
}

function refuse(input: unknown): string[] {
  const r = parseConfig(input);
  assert.equal(r.ok, false, 'expected a refusal');
  return r.ok ? [] : r.issues.map((i: ConfigIssue) => `${i.pointer} ${i.code}`).sort();
}

test('defaults: export off, ratio 1, service spooky-dataplane, no endpoint', () => {
  assert.deepEqual(accept(config({})).observability, {
    tracing: { enabled: false, otlp_endpoint: null, sample_ratio: 1, service_name: 'spooky-dataplane' },
  });
});

test('a bare origin gets /v1/traces; a path is kept; both forms have one canonical value', () => {
  const on = (otlp_endpoint: string) => accept(config({ observability: { tracing: { enabled: true, otlp_endpoint } } })).observability.tracing.otlp_endpoint;
  assert.equal(on('http://127.0.0.1:4318'), 'http://127.0.0.1:4318/v1/traces');
  assert.equal(on('http://127.0.0.1:4318/'), 'http://127.0.0.1:4318/v1/traces');
  assert.equal(on('https://otel.example:443/custom/traces'), 'https://otel.example/custom/traces');
  const c = accept(config({ observability: { tracing: { enabled: true, otlp_endpoint: 'http://[::1]:4318', sample_ratio: 0.25, service_name: 'edge-eu' } } }));
  assert.deepEqual(c.observability.tracing, { enabled: true, otlp_endpoint: 'http://[::1]:4318/v1/traces', sample_ratio: 0.25, service_name: 'edge-eu' });
});

test('an endpoint may be set while export is off (switched on by a later generation)', () => {
  assert.equal(accept(config({ observability: { tracing: { otlp_endpoint: 'http://127.0.0.1:4318' } } })).observability.tracing.enabled, false);
});

test('semantic issues carry JSON Pointers into observability.tracing', () => {
  assert.deepEqual(refuse(config({ observability: { tracing: { enabled: true } } })), ['/observability/tracing/enabled observability.tracing.endpoint_required']);
  assert.deepEqual(refuse(config({ observability: { tracing: { otlp_endpoint: 'collector:4318' } } })), [
    '/observability/tracing/otlp_endpoint observability.tracing.endpoint_invalid',
  ]);
  assert.deepEqual(refuse(config({ observability: { tracing: { otlp_endpoint: 'ftp://collector/v1/traces' } } })), [
    '/observability/tracing/otlp_endpoint observability.tracing.endpoint_invalid',
  ]);
  assert.deepEqual(refuse(config({ observability: { tracing: { otlp_endpoint: 'https://user:secret@collector/v1/traces' } } })), [
    '/observability/tracing/otlp_endpoint observability.tracing.endpoint_credentials',
  ]);
  assert.deepEqual(refuse(config({ tracing: { enabled: false }, observability: { tracing: { enabled: true, otlp_endpoint: 'http://127.0.0.1:4318' } } })), [
    '/tracing/enabled observability.tracing.propagation_off',
  ]);
});

test('a refused endpoint never appears in an issue message (it may hold a secret)', () => {
  const r = parseConfig(config({ observability: { tracing: { otlp_endpoint: 'https://user:hunter2@collector/v1/traces' } } }));
  assert.equal(r.ok, false);
  assert.ok(!r.ok && r.issues.every((i) => !i.message.includes('hunter2')));
});

test('schema issues: ratio out of 0..1, unknown key, empty service name', () => {
  assert.ok(refuse(config({ observability: { tracing: { sample_ratio: 1.5 } } })).some((s) => s.startsWith('/observability/tracing/sample_ratio')));
  assert.ok(refuse(config({ observability: { tracing: { sample_ratio: -0.1 } } })).some((s) => s.startsWith('/observability/tracing/sample_ratio')));
  assert.ok(refuse(config({ observability: { tracing: { endpoint: 'http://x' } } })).includes('/observability/tracing/endpoint schema.unknown_key'));
  assert.ok(refuse(config({ observability: { metrics: {} } })).includes('/observability/metrics schema.unknown_key'));
  assert.ok(refuse(config({ observability: { tracing: { service_name: '' } } })).some((s) => s.startsWith('/observability/tracing/service_name')));
});
