import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { authorizeNode, identitiesFromSan, nodeSpiffeId, parseSubjectAltName } from './node-identity.ts';

describe('node identity', () => {
  it('parses Node subjectaltname strings, quoted values included', () => {
    assert.deepEqual(parseSubjectAltName('URI:spiffe://spooky/scope/prod/node/n1, DNS:x, IP Address:127.0.0.1'), [
      ['URI', 'spiffe://spooky/scope/prod/node/n1'],
      ['DNS', 'x'],
      ['IP Address', '127.0.0.1'],
    ]);
    assert.deepEqual(parseSubjectAltName('DNS:"a, b", URI:u'), [
      ['DNS', 'a, b'],
      ['URI', 'u'],
    ]);
    assert.deepEqual(parseSubjectAltName(''), []);
  });

  it('derives identities from SPIFFE URIs (several) and the DNS form; ignores the rest', () => {
    const san = 'URI:spiffe://spooky/scope/prod/node/n1, URI:spiffe://spooky/scope/edge-2/node/n%2F1, DNS:n3.stage.node.spooky, DNS:cp.example.com, URI:https://x/y, URI:spiffe://other/scope/a/node/b';
    assert.deepEqual(identitiesFromSan(san), [
      { scope: 'prod', nodeId: 'n1' },
      { scope: 'edge-2', nodeId: 'n/1' },
      { scope: 'stage', nodeId: 'n3' },
    ]);
    assert.deepEqual(identitiesFromSan('URI:spiffe://spooky/scope/Bad_Scope/node/n1'), []);
    assert.equal(nodeSpiffeId('prod', 'n/1'), 'spiffe://spooky/scope/prod/node/n%2F1');
  });

  it('allows exactly the named scope and node id', () => {
    const san = `URI:${nodeSpiffeId('a', 'n1')}, URI:${nodeSpiffeId('c', 'n1')}`;
    assert.deepEqual(authorizeNode(san, 'a', 'n1'), { ok: true, identity: { scope: 'a', nodeId: 'n1' } });
    assert.equal(authorizeNode(san, 'c', 'n1').ok, true);
    assert.equal(authorizeNode('DNS:n9.b.node.spooky', 'b', 'n9').ok, true);
  });

  it('refuses with a stable reason and a message naming what the certificate allows', () => {
    const san = `URI:${nodeSpiffeId('a', 'n1')}`;
    const cases: Array<[string | undefined, string, string, string, RegExp]> = [
      [undefined, 'a', 'n1', 'no_certificate', /--cert/],
      ['DNS:cp.example.com', 'a', 'n1', 'bad_identity', /spiffe:\/\/spooky\/scope\/<scope>\/node\/<node-id>/],
      [san, 'b', 'n1', 'scope_not_allowed', /does not allow scope b: it allows scope a as node n1/],
      [san, 'a', 'n2', 'node_id_mismatch', /node id n2 does not match.*scope a as node n1/],
    ];
    for (const [s, scope, node, reason, pattern] of cases) {
      const v = authorizeNode(s, scope, node);
      assert.equal(v.ok, false);
      if (v.ok) continue;
      assert.equal(v.reason, reason);
      assert.match(v.message, pattern);
    }
  });
});
