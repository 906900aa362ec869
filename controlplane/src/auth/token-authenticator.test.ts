import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasPermission } from './permissions.ts';
import { hashToken, TokenAuthenticator } from './token-authenticator.ts';

const file = (entries: unknown[]) => JSON.stringify({ tokens: entries });

describe('TokenAuthenticator', () => {
  const auth = TokenAuthenticator.fromJson(
    file([
      { name: 'ci', sha256: hashToken('s3cret'), permissions: ['config:read'], scopes: ['default'] },
      { name: 'ops', sha256: hashToken('root'), permissions: ['admin'], scopes: ['*'] },
    ]),
  );

  it('finds the principal for a known Bearer token only', () => {
    assert.equal(auth.authenticate('Bearer s3cret')?.name, 'ci');
    assert.equal(auth.authenticate('bearer root')?.name, 'ops');
    assert.equal(auth.authenticate('Bearer wrong'), null);
    assert.equal(auth.authenticate('Basic s3cret'), null);
    assert.equal(auth.authenticate(undefined), null);
  });

  it('says why a header failed, with a fingerprint that is no prefix of the token or its hash', () => {
    assert.deepEqual(auth.check(undefined), { ok: false, reason: 'missing' });
    assert.deepEqual(auth.check('Basic s3cret'), { ok: false, reason: 'malformed' });
    const unknown = auth.check('Bearer wrong');
    assert.equal(unknown.ok, false);
    assert.equal(!unknown.ok && unknown.reason, 'unknown');
    const fingerprint = (!unknown.ok && unknown.fingerprint) || '';
    assert.match(fingerprint, /^[0-9a-f]{12}$/);
    assert.ok(!hashToken('wrong').startsWith(fingerprint) && !'wrong'.startsWith(fingerprint));
  });

  it('admin implies every permission', () => {
    const ops = auth.authenticate('Bearer root');
    const ci = auth.authenticate('Bearer s3cret');
    assert.ok(ops && ci);
    assert.equal(hasPermission(ops, 'config:activate'), true);
    assert.equal(hasPermission(ci, 'config:read'), true);
    assert.equal(hasPermission(ci, 'config:write'), false);
  });

  it('rejects malformed files with the entry named and no secret echoed', () => {
    assert.throws(() => TokenAuthenticator.fromJson('{'), { code: 'tokens_invalid' });
    assert.throws(() => TokenAuthenticator.fromJson(file([{ name: 'x', sha256: 'abc', permissions: [], scopes: [] }])), {
      code: 'tokens_invalid',
      message: /tokens\[0\]\.sha256/,
    });
    assert.throws(
      () => TokenAuthenticator.fromJson(file([{ name: 'x', sha256: hashToken('t'), permissions: ['root'], scopes: ['*'] }])),
      { code: 'tokens_invalid' },
    );
  });
});
