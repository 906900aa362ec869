import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalJson, digest } from './canonical.ts';
import { parseCidr, parseIp } from './cidr.ts';
import { isHostHeaderValue } from './forwarding-checks.ts';
import { parseConfig } from './parse-config.ts';
import type { Config, ConfigIssue } from './types.ts';

const listen = { address: '127.0.0.1', port: 9889, tls: { cert: 'c.pem', key: 'k.pem' } };
const backends = [{ id: 'a', address: 'http://127.0.0.1:8080' }];

function config(extra: Record<string, unknown>, upstreamExtra: Record<string, unknown> = {}): unknown {
  return { listen, upstream: { api: { route: { path_prefix: '/' }, backends, ...upstreamExtra } }, ...extra };
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

test('defaults: pass_through, overwrite, no trusted proxy, Via spooky, tracing on at 100 %', () => {
  const c = accept(config({}));
  assert.deepEqual(c.forwarded_headers, { mode: 'overwrite', trusted_proxies: [], via: 'spooky' });
  assert.deepEqual(c.tracing, { enabled: true, sample_percent: 100 });
  const up = c.upstream.api!;
  assert.equal(up.host_policy, 'pass_through');
  assert.equal(up.host_rewrite, null);
  assert.equal(up.forwarded_headers, null);
});

test('a per-upstream forwarded_headers block overrides the global one field by field', () => {
  const c = accept(
    config({ forwarded_headers: { mode: 'append', trusted_proxies: ['10.0.0.0/8', '::1'], via: 'edge-1' } }, { forwarded_headers: { mode: 'preserve', via: false } }),
  );
  assert.deepEqual(c.upstream.api!.forwarded_headers, { mode: 'preserve', trusted_proxies: ['10.0.0.0/8', '::1'], via: false });
});

test('host_policy rewrite needs host_rewrite; host_rewrite is refused with any other policy', () => {
  assert.equal(accept(config({}, { host_policy: 'rewrite', host_rewrite: 'api.internal:8443' })).upstream.api!.host_rewrite, 'api.internal:8443');
  assert.equal(accept(config({}, { host_policy: 'upstream' })).upstream.api!.host_policy, 'upstream');
  assert.deepEqual(refuse(config({}, { host_policy: 'rewrite' })), ['/upstream/api/host_policy upstream.host_rewrite.required']);
  assert.deepEqual(refuse(config({}, { host_rewrite: 'x' })), ['/upstream/api/host_rewrite upstream.host_rewrite.unused']);
  assert.deepEqual(refuse(config({}, { host_policy: 'rewrite', host_rewrite: 'a b' })), ['/upstream/api/host_rewrite upstream.host_rewrite.invalid']);
  assert.deepEqual(refuse(config({}, { host_policy: 'sideways' })).length > 0, true);
});

test('a bad CIDR is an issue at the entry, globally and per upstream', () => {
  assert.deepEqual(
    refuse(config({ forwarded_headers: { trusted_proxies: ['10.0.0.0/8', '10.0.0.1/8', '300.1.1.1', 'fe80::/129'] } }, { forwarded_headers: { trusted_proxies: ['::1/128', 'nope'] } })),
    [
      '/forwarded_headers/trusted_proxies/1 forwarded_headers.trusted_proxy.invalid',
      '/forwarded_headers/trusted_proxies/2 forwarded_headers.trusted_proxy.invalid',
      '/forwarded_headers/trusted_proxies/3 forwarded_headers.trusted_proxy.invalid',
      '/upstream/api/forwarded_headers/trusted_proxies/1 forwarded_headers.trusted_proxy.invalid',
    ],
  );
});

test('append / preserve without a trusted proxy are refused (they would act as overwrite)', () => {
  assert.deepEqual(refuse(config({ forwarded_headers: { mode: 'append' } })), ['/forwarded_headers/mode forwarded_headers.trust_required']);
  assert.deepEqual(refuse(config({}, { forwarded_headers: { mode: 'preserve' } })), ['/upstream/api/forwarded_headers/mode forwarded_headers.trust_required']);
  accept(config({ forwarded_headers: { trusted_proxies: ['0.0.0.0/0', '::/0'] } }, { forwarded_headers: { mode: 'append' } }));
});

test('unknown keys and bad values in the new blocks are schema issues', () => {
  assert.ok(refuse(config({ forwarded_headers: { modes: 'append' } })).includes('/forwarded_headers/modes schema.unknown_key'));
  assert.ok(refuse(config({ tracing: { sample_percent: 101 } })).some((s) => s.startsWith('/tracing/sample_percent')));
  assert.ok(refuse(config({ forwarded_headers: { via: 'two words' } })).some((s) => s.startsWith('/forwarded_headers/via')));
});

test('parseIp: IPv4, IPv6 forms, IPv4-mapped, brackets, zones; garbage refused', () => {
  assert.deepEqual(parseIp('10.1.2.3'), [0, 0, 0xffff, 0x0a010203]);
  assert.deepEqual(parseIp('::ffff:10.1.2.3'), [0, 0, 0xffff, 0x0a010203]);
  assert.deepEqual(parseIp('::1'), [0, 0, 0, 1]);
  assert.deepEqual(parseIp('[::1]'), [0, 0, 0, 1]);
  assert.deepEqual(parseIp('::'), [0, 0, 0, 0]);
  assert.deepEqual(parseIp('2001:db8::'), [0x20010db8, 0, 0, 0]);
  assert.deepEqual(parseIp('2001:DB8:0:0:1:0:0:1'), [0x20010db8, 0, 0x10000, 1]);
  assert.deepEqual(parseIp('fe80::1%eth0'), [0xfe800000, 0, 0, 1]);
  for (const bad of ['', '1.2.3', '1.2.3.4.5', '01.2.3.4', '256.0.0.1', '1::2::3', ':1', '1:', '12345::', '1:2:3:4:5:6:7:8:9', 'x', '1.2.3.4/8', '[1.2.3.4]x']) {
    assert.equal(parseIp(bad), null, bad);
  }
});

test('parseCidr: prefixes over the 128-bit form, host bits refused', () => {
  assert.deepEqual(parseCidr('10.0.0.0/8'), { words: [0, 0, 0xffff, 0x0a000000], bits: 104, v4: true });
  assert.deepEqual(parseCidr('192.168.1.7'), { words: [0, 0, 0xffff, 0xc0a80107], bits: 128, v4: true });
  assert.deepEqual(parseCidr('::/0'), { words: [0, 0, 0, 0], bits: 0, v4: false });
  assert.deepEqual(parseCidr('2001:db8::/32'), { words: [0x20010db8, 0, 0, 0], bits: 32, v4: false });
  for (const bad of ['10.0.0.1/8', '10.0.0.0/33', '::1/64', '::/129', '10.0.0.0/', '10.0.0.0/08', '[10.0.0.0]/8']) assert.equal(parseCidr(bad), null, bad);
});

test('isHostHeaderValue', () => {
  for (const ok of ['api.internal', 'api.internal:8443', '10.0.0.1', '10.0.0.1:80', '[::1]', '[::1]:443', 'a_b.example.']) assert.ok(isHostHeaderValue(ok), ok);
  for (const bad of ['', 'a b', 'a:0', 'a:65536', '[::1', '[nope]', 'a/b', 'a:1:2']) assert.ok(!isHostHeaderValue(bad), bad);
});
