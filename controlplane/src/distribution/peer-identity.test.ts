import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkPeerIdentity } from './peer-identity.ts';

const hello = { scope: 'prod', nodeId: 'n1' };
const reason = (v: ReturnType<typeof checkPeerIdentity>): string => (v.ok ? 'ok' : v.reason);

describe('peer identity of a ConfigSync call', () => {
  it('no auth context or no peer certificate is no_certificate; a certificate without SAN is bad_identity', () => {
    assert.equal(reason(checkPeerIdentity({}, hello)), 'no_certificate');
    assert.equal(reason(checkPeerIdentity({ getAuthContext: () => null }, hello)), 'no_certificate');
    assert.equal(reason(checkPeerIdentity({ getAuthContext: () => ({}) }, hello)), 'no_certificate');
    assert.equal(reason(checkPeerIdentity({ getAuthContext: () => ({ sslPeerCertificate: {} }) }, hello)), 'bad_identity');
  });

  it("the certificate's SAN decides", () => {
    const call = (san: string) => ({ getAuthContext: () => ({ sslPeerCertificate: { subjectaltname: san } }) });
    assert.equal(reason(checkPeerIdentity(call('URI:spiffe://spooky/scope/prod/node/n1'), hello)), 'ok');
    assert.equal(reason(checkPeerIdentity(call('URI:spiffe://spooky/scope/stage/node/n1'), hello)), 'scope_not_allowed');
  });
});
