import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HeaderList } from '../http/exchange.ts';
import { applyClientCertHeaders } from './client-cert-headers.ts';
import type { ClientAuthMaterial } from './listener-spec.ts';
import { identityOf } from './tcp/client-cert-identity.ts';

const auth: ClientAuthMaterial = { required: true, ca: Buffer.alloc(0), subjectHeader: 'x-client-cert-subject', fingerprintHeader: 'x-client-cert-sha256' };
const stripped = [auth.subjectHeader, auth.fingerprintHeader];

describe('client certificate headers', () => {
  it('strips every forged copy and adds the verified identity', () => {
    const headers: HeaderList = [
      ['x-client-cert-subject', 'CN=admin'],
      ['accept', '*/*'],
      ['x-client-cert-sha256', 'forged'],
      ['x-client-cert-subject', 'CN=root'],
    ];
    applyClientCertHeaders(headers, stripped, { subject: 'CN=client', sha256: 'ab' }, auth);
    assert.deepEqual(headers, [
      ['accept', '*/*'],
      ['x-client-cert-subject', 'CN=client'],
      ['x-client-cert-sha256', 'ab'],
    ]);
  });

  it('without an identity only strips; leaves other headers untouched', () => {
    const headers: HeaderList = [
      ['accept', '*/*'],
      ['x-client-cert-subject', 'CN=admin'],
    ];
    applyClientCertHeaders(headers, stripped, undefined, auth);
    assert.deepEqual(headers, [['accept', '*/*']]);
    const untouched: HeaderList = [['accept', '*/*']];
    applyClientCertHeaders(untouched, stripped, undefined, null);
    assert.deepEqual(untouched, [['accept', '*/*']]);
  });

  it('formats the subject as one header-safe line and the fingerprint as lowercase hex', () => {
    const id = identityOf('CN=client\nO=Acme\\, Inc.\nL=Zürich', Buffer.from('der'));
    assert.equal(id.subject, 'CN=client,O=Acme\\, Inc.,L=Z%C3%BCrich');
    assert.match(id.sha256, /^[0-9a-f]{64}$/);
  });
});
