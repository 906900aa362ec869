import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Listener } from '@spooky/config';
import { makeSelfSignedCert } from '../testing/self-signed-cert.ts';
import { readListenerSpec } from './read-listener-spec.ts';

describe('reading a listener spec', () => {
  const main = makeSelfSignedCert();
  const a = makeSelfSignedCert(undefined, 'a');
  const b = makeSelfSignedCert(undefined, 'b');
  const base: Listener = { protocol: 'http3', address: '127.0.0.1', port: 1, tls: { cert: main.certPath, key: main.keyPath } };

  it('reads SNI certificates, the client CA and the header names; stats every file', async () => {
    const r = await readListenerSpec(
      {
        ...base,
        tls: {
          ...base.tls,
          certificates: [{ server_name: 'a.test', cert: a.certPath, key: a.keyPath }],
          client_auth: { enabled: true, require_client_cert: false, ca_file: b.certPath, subject_header: 's', fingerprint_header: 'f' },
        },
      },
      0,
    );
    assert.ok(r.ok);
    assert.equal(r.spec.sni[0]?.serverName, 'a.test');
    assert.deepEqual(r.spec.sni[0]?.cert, readFileSync(a.certPath));
    assert.equal(r.spec.clientAuth?.required, false);
    assert.deepEqual(r.spec.strippedHeaders, ['s', 'f']);
    assert.deepEqual([...r.spec.fileSignatures.keys()], [main.certPath, main.keyPath, a.certPath, a.keyPath, b.certPath]);
  });

  it('strips the default header names on a listener without client_auth', async () => {
    const r = await readListenerSpec(base, 0);
    assert.ok(r.ok);
    assert.deepEqual(r.spec.strippedHeaders, ['x-client-cert-subject', 'x-client-cert-sha256']);
    assert.equal(r.spec.clientAuth, null);
  });

  it('refuses a mismatched SNI pair, a half-written key and a CA that is no certificate, at their pointers', async () => {
    const half = join(b.dir, 'half.key');
    const key = readFileSync(b.keyPath, 'utf8');
    writeFileSync(half, key.slice(0, key.length / 2));
    const r = await readListenerSpec(
      {
        ...base,
        tls: {
          ...base.tls,
          certificates: [
            { server_name: 'a.test', cert: a.certPath, key: b.keyPath },
            { server_name: 'b.test', cert: b.certPath, key: half },
          ],
          client_auth: { enabled: true, require_client_cert: true, ca_file: b.keyPath, subject_header: 's', fingerprint_header: 'f' },
        },
      },
      3,
    );
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.deepEqual(r.failures.map((f) => [f.issue.pointer, f.issue.code]).sort(), [
      ['/listeners/3/tls/certificates/0/key', 'listener.tls.invalid'],
      ['/listeners/3/tls/certificates/1/key', 'listener.tls.invalid'],
      ['/listeners/3/tls/client_auth/ca_file', 'listener.tls.invalid'],
    ]);
    for (const f of r.failures) assert.doesNotMatch(f.issue.message, /BEGIN|PRIVATE|half\.key/);
  });

  it('reports an unreadable CA file at client_auth/ca_file', async () => {
    const r = await readListenerSpec(
      { ...base, tls: { ...base.tls, client_auth: { enabled: true, require_client_cert: true, ca_file: '/nonexistent/ca.pem', subject_header: 's', fingerprint_header: 'f' } } },
      0,
    );
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.deepEqual(
      r.failures.map((f) => [f.issue.pointer, f.issue.code]),
      [['/listeners/0/tls/client_auth/ca_file', 'listener.tls.unreadable']],
    );
  });
});
