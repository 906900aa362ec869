import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from './parse-config.ts';

const upstream = { app: { route: { path_prefix: '/' }, backends: [{ id: 'a', address: 'http://127.0.0.1:1' }] } };

function parse(tls: unknown) {
  return parseConfig({ listen: { address: '127.0.0.1', port: 9889, tls }, upstream });
}

function issues(tls: unknown): Array<[string, string]> {
  const r = parse(tls);
  assert.equal(r.ok, false);
  return r.ok ? [] : r.issues.map((i) => [i.pointer, i.code]);
}

describe('listener tls block', () => {
  it('keeps the plain cert/key form unchanged (no new keys in its canonical form)', () => {
    const r = parse({ cert: 'c', key: 'k' });
    assert.ok(r.ok);
    assert.deepEqual(r.config.listeners[0]?.tls, { cert: 'c', key: 'k' });
  });

  it('normalizes SNI certificates; the first one is the default without cert/key', () => {
    const r = parse({ certificates: [{ server_name: 'A.Example.com.', cert: 'a.pem', key: 'a.key' }, { server_name: '*.b.example', cert: 'b.pem', key: 'b.key' }] });
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(r.config.listeners[0]?.tls, {
      cert: 'a.pem',
      key: 'a.key',
      certificates: [
        { server_name: 'a.example.com', cert: 'a.pem', key: 'a.key' },
        { server_name: '*.b.example', cert: 'b.pem', key: 'b.key' },
      ],
    });
  });

  it('fills client_auth defaults', () => {
    const r = parse({ cert: 'c', key: 'k', client_auth: { ca_file: 'ca.pem', subject_header: 'X-Subject' } });
    assert.ok(r.ok);
    assert.deepEqual(r.config.listeners[0]?.tls.client_auth, {
      enabled: true,
      require_client_cert: true,
      ca_file: 'ca.pem',
      subject_header: 'x-subject',
      fingerprint_header: 'x-client-cert-sha256',
    });
  });

  it('rejects incomplete, missing and ambiguous material with JSON pointers', () => {
    assert.deepEqual(issues({ cert: 'c' }), [['/listen/tls/key', 'listener.tls.incomplete']]);
    assert.deepEqual(issues({}), [['/listen/tls', 'listener.tls.missing']]);
    assert.deepEqual(
      issues({
        cert: 'c',
        key: 'k',
        certificates: [
          { server_name: 'a.example', cert: 'a', key: 'a' },
          { server_name: 'A.example', cert: 'a', key: 'a' },
          { server_name: 'a.*.example', cert: 'a', key: 'a' },
          { server_name: '*', cert: 'a', key: 'a' },
        ],
      }),
      [
        ['/listen/tls/certificates/1/server_name', 'listener.tls.server_name.duplicate'],
        ['/listen/tls/certificates/2/server_name', 'listener.tls.server_name.invalid'],
        ['/listen/tls/certificates/3/server_name', 'listener.tls.server_name.invalid'],
      ],
    );
  });

  it('rejects client_auth without a CA, with reserved or clashing header names, and unknown keys', () => {
    assert.deepEqual(issues({ cert: 'c', key: 'k', client_auth: {} }), [['/listen/tls/client_auth/ca_file', 'listener.tls.client_auth.ca_missing']]);
    assert.deepEqual(issues({ cert: 'c', key: 'k', client_auth: { ca_file: 'x', subject_header: 'x-forwarded-for', fingerprint_header: 'X-Forwarded-For' } }), [
      ['/listen/tls/client_auth/subject_header', 'listener.tls.client_auth.header_invalid'],
      ['/listen/tls/client_auth/fingerprint_header', 'listener.tls.client_auth.header_invalid'],
      ['/listen/tls/client_auth/fingerprint_header', 'listener.tls.client_auth.header_invalid'],
    ]);
    assert.equal(parse({ cert: 'c', key: 'k', client_auth: { enabled: false } }).ok, true);
    assert.ok(issues({ cert: 'c', key: 'k', client_auth: { ca_file: 'x', verify: true } }).length > 0);
    assert.ok(issues({ cert: 'c', key: 'k', certificates: [{ server_name: 'a.example', cert: 'a', key: 'a', pass: 'x' }] }).length > 0);
  });
});
