import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diff } from './diff.ts';
import { parseConfig } from './parse-config.ts';
import { REDACTED, redactSecrets } from './redact-secrets.ts';
import type { Config, ConfigIssue } from './types.ts';
import { upstreamTls } from './upstream-tls.ts';

const listen = { address: '127.0.0.1', port: 9889, tls: { cert: 'c.pem', key: 'k.pem' } };

function doc(tls: unknown, address = 'https://127.0.0.1:8443', extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    listen,
    upstream: {
      app: { route: { path_prefix: '/' }, backends: [{ id: 'a', address }], ...(tls === undefined ? {} : { tls }) },
      other: { route: { path_prefix: '/o' }, backends: [{ id: 'b', address: 'https://origin.test:8443' }] },
    },
    ...extra,
  };
}

function accepted(input: unknown): Config {
  const r = parseConfig(input);
  assert.deepEqual(r.ok ? [] : r.issues, []);
  assert.ok(r.ok);
  return r.config;
}

function rejected(input: unknown): string[] {
  const r = parseConfig(input);
  assert.equal(r.ok, false, 'expected a rejection');
  return r.ok ? [] : r.issues.map((i: ConfigIssue) => `${i.pointer} ${i.code}`);
}

test('no tls block: every field resolves to the global upstream_tls', () => {
  const config = accepted(doc(undefined, 'https://127.0.0.1:8443', { upstream_tls: { verify_certificates: true, ca_file: '/g/ca.pem', ca_dir: '/g/cas' } }));
  assert.equal(config.upstream['app']?.tls, null);
  assert.deepEqual(upstreamTls(config, 'app'), {
    verify_certificates: true,
    ca_file: '/g/ca.pem',
    ca_dir: '/g/cas',
    ca_pointer: '/upstream_tls',
    server_name: null,
    strict_sni: false,
    cert: null,
    key: null,
  });
});

test('an upstream CA replaces the whole global CA set; verify and names are its own', () => {
  const config = accepted(
    doc({ ca_file: '/u/ca.pem', server_name: 'Origin.Test.', cert: '/u/c.pem', key: '/u/k.pem', verify_certificates: false }, undefined, {
      upstream_tls: { ca_file: '/g/ca.pem', ca_dir: '/g/cas' },
    }),
  );
  assert.deepEqual(upstreamTls(config, 'app'), {
    verify_certificates: false,
    ca_file: '/u/ca.pem',
    ca_dir: null,
    ca_pointer: '/upstream/app/tls',
    server_name: 'origin.test',
    strict_sni: false,
    cert: '/u/c.pem',
    key: '/u/k.pem',
  });
  assert.equal(upstreamTls(config, 'other').ca_file, '/g/ca.pem', 'the other upstream keeps the global CAs');
  assert.equal(upstreamTls(config, 'other').verify_certificates, true);
});

test('unknown keys, half a client certificate and IP server names are rejected', () => {
  assert.deepEqual(rejected(doc({ sni: 'x' })), ['/upstream/app/tls/sni schema.unknown_key']);
  assert.deepEqual(rejected(doc({ cert: '/c.pem' })), ['/upstream/app/tls/key tls.client_cert.incomplete']);
  assert.deepEqual(rejected(doc({ key: '/k.pem' })), ['/upstream/app/tls/cert tls.client_cert.incomplete']);
  for (const name of ['10.0.0.1', '::1', '[::1]', 'a b', 'x..y']) {
    assert.deepEqual(rejected(doc({ server_name: name })), ['/upstream/app/tls/server_name tls.server_name.invalid'], name);
  }
});

test('strict_sni: an IP backend needs server_name, verification must be on', () => {
  assert.deepEqual(rejected(doc({ strict_sni: true })), ['/upstream/app/backends/0/address tls.strict_sni.server_name_required']);
  assert.deepEqual(rejected(doc({ strict_sni: true, server_name: 'origin.test', verify_certificates: false })), ['/upstream/app/tls/strict_sni tls.strict_sni.unverified']);
  assert.deepEqual(rejected(doc({ strict_sni: true, server_name: 'origin.test' }, undefined, { upstream_tls: { verify_certificates: false } })), [
    '/upstream/app/tls/strict_sni tls.strict_sni.unverified',
  ]);
  accepted(doc({ strict_sni: true, server_name: 'origin.test' }));
  accepted(doc({ strict_sni: true }, 'https://origin.test:8443'));
  accepted(doc({ strict_sni: true }, 'http://127.0.0.1:8080'));
});

test('the client key path is redacted in documents and diffs; the certificate path is not', () => {
  const before = accepted(doc({ cert: '/u/c.pem', key: '/u/tenant-a.key' }));
  const after = accepted(doc({ cert: '/u/c2.pem', key: '/u/tenant-b.key' }));
  const out = redactSecrets(JSON.parse(JSON.stringify(after))) as { upstream: { app: { tls: { key: string; cert: string } } } };
  assert.equal(out.upstream.app.tls.key, REDACTED);
  assert.equal(out.upstream.app.tls.cert, '/u/c2.pem');
  const changes = diff(before, after);
  const text = JSON.stringify(changes);
  assert.ok(!text.includes('tenant-'), text);
  assert.ok(text.includes('/u/c2.pem'), text);
});
