import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { type Config, type ConfigIssue, parseConfig } from '@spooky/config';
import { makeSelfSignedCert } from '../testing/self-signed-cert.ts';
import { TlsMaterialReader } from './upstream-tls-material.ts';

function config(tls: Record<string, unknown> | undefined, global: Record<string, unknown> = {}): Config {
  const r = parseConfig({
    listen: { tls: { cert: 'c', key: 'k' } },
    upstream_tls: global,
    upstream: {
      app: { route: { path_prefix: '/' }, backends: [{ id: 'a', address: 'https://127.0.0.1:8443' }], ...(tls ? { tls } : {}) },
      other: { route: { path_prefix: '/o' }, backends: [{ id: 'b', address: 'https://127.0.0.1:8444' }] },
    },
  });
  assert.ok(r.ok, JSON.stringify(r.ok ? [] : r.issues));
  return r.config;
}

function read(c: Config, name = 'app'): { issues: ConfigIssue[]; material: ReturnType<TlsMaterialReader['forUpstream']> } {
  const issues: ConfigIssue[] = [];
  const material = new TlsMaterialReader(issues).forUpstream(c, name);
  return { issues, material };
}

test('client certificate, own CA and server name are read; another upstream keeps the global CA', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spooky-utls-'));
  try {
    const client = makeSelfSignedCert(dir, 'client');
    const ownCa = makeSelfSignedCert(dir, 'own-ca');
    const globalCa = makeSelfSignedCert(dir, 'global-ca');
    const c = config({ cert: client.certPath, key: client.keyPath, ca_file: ownCa.certPath, server_name: 'origin.test' }, { ca_file: globalCa.certPath });
    const app = read(c);
    assert.deepEqual(app.issues, []);
    assert.match(app.material.clientCert?.cert ?? '', /BEGIN CERTIFICATE/);
    assert.match(app.material.clientCert?.key ?? '', /PRIVATE KEY/);
    assert.equal(app.material.serverName, 'origin.test');
    assert.equal(app.material.verifyCertificates, true);
    const other = read(c, 'other');
    assert.deepEqual(other.issues, []);
    assert.equal(other.material.clientCert, null);
    assert.notEqual(other.material.ca, app.material.ca);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('missing, non-PEM, encrypted and mismatched client files are issues at their pointer, without content', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spooky-utls-'));
  try {
    const a = makeSelfSignedCert(dir, 'a');
    const b = makeSelfSignedCert(dir, 'b');
    const junk = join(dir, 'junk.pem');
    writeFileSync(junk, 'SECRET-JUNK not pem');
    const encrypted = join(dir, 'enc.key');
    execFileSync('openssl', ['pkey', '-in', a.keyPath, '-aes256', '-passout', 'pass:pw', '-out', encrypted], { stdio: 'ignore' });

    const cases: Array<[Record<string, unknown>, string, string, RegExp]> = [
      [{ cert: join(dir, 'nope.crt'), key: a.keyPath }, '/upstream/app/tls/cert', 'tls.client_cert.unreadable', /ENOENT/],
      [{ cert: a.certPath, key: join(dir, 'nope.key') }, '/upstream/app/tls/key', 'tls.client_key.unreadable', /ENOENT/],
      [{ cert: junk, key: a.keyPath }, '/upstream/app/tls/cert', 'tls.client_cert.unreadable', /holds no PEM certificate/],
      [{ cert: a.certPath, key: junk }, '/upstream/app/tls/key', 'tls.client_key.unreadable', /holds no PEM private key/],
      [{ cert: a.certPath, key: encrypted }, '/upstream/app/tls/key', 'tls.client_key.unreadable', /encrypted/],
      [{ cert: a.certPath, key: b.keyPath }, '/upstream/app/tls/key', 'tls.client_key.mismatch', /not the private key/],
      [{ ca_file: junk }, '/upstream/app/tls/ca_file', 'tls.ca_file.unreadable', /holds no PEM/],
    ];
    for (const [tls, pointer, code, message] of cases) {
      const { issues, material } = read(config(tls));
      assert.deepEqual(
        issues.map((i) => [i.pointer, i.code]),
        [[pointer, code]],
        JSON.stringify(tls),
      );
      assert.match(issues[0]?.message ?? '', message);
      assert.ok(!(issues[0]?.message ?? '').includes('SECRET-JUNK'));
      assert.ok(!(issues[0]?.message ?? '').includes('BEGIN'));
      assert.ok(!(issues[0]?.message ?? '').includes('.key'), `a key path is a secret: ${issues[0]?.message}`);
      assert.equal(material.clientCert, null);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('one reader reads a shared file once per compile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spooky-utls-'));
  try {
    const ca = makeSelfSignedCert(dir, 'ca');
    const c = config(undefined, { ca_file: ca.certPath });
    const issues: ConfigIssue[] = [];
    const reader = new TlsMaterialReader(issues);
    const first = reader.forUpstream(c, 'app');
    rmSync(ca.certPath);
    const second = reader.forUpstream(c, 'other');
    assert.deepEqual(issues, []);
    assert.equal(second.ca, first.ca);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
