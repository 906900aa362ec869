import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { makeSelfSignedCert } from '../testing/self-signed-cert.ts';
import { invalidTlsIssue } from './tls-material.ts';

describe('listener TLS material check', () => {
  const a = makeSelfSignedCert();
  const b = makeSelfSignedCert();
  const certA = readFileSync(a.certPath);
  const keyA = readFileSync(a.keyPath);
  const keyB = readFileSync(b.keyPath);

  it('accepts a certificate with its own key', () => {
    assert.equal(invalidTlsIssue(0, certA, keyA), null);
  });

  it('refuses a broken key, a broken certificate and a key of another certificate, without quoting them', () => {
    const secret = 'SECRETMATERIAL0123456789';
    const brokenKey = Buffer.from(`-----BEGIN PRIVATE KEY-----\n${secret}\n-----END PRIVATE KEY-----\n`);
    const brokenCert = Buffer.from(`-----BEGIN CERTIFICATE-----\n${secret}\n-----END CERTIFICATE-----\n`);
    const cases: Array<[Buffer, Buffer, string]> = [
      [certA, brokenKey, '/listeners/2/tls/key'],
      [brokenCert, keyA, '/listeners/2/tls/cert'],
      [certA, keyB, '/listeners/2/tls/key'],
    ];
    for (const [cert, key, pointer] of cases) {
      const found = invalidTlsIssue(2, cert, key);
      assert.equal(found?.issue.pointer, pointer);
      assert.equal(found?.issue.code, 'listener.tls.invalid');
      assert.equal(found?.retryable, false);
      assert.ok(!found?.issue.message.includes(secret));
    }
    assert.match(invalidTlsIssue(0, certA, keyB)?.issue.message ?? '', /does not match/);
  });
});
