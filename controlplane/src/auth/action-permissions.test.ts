/**
 * The action table and its verdicts (pure): admin implies every action; a permission grants
 * exactly the actions that list it; an action listing several is allowed by any one; a scope
 * outside the token's patterns refuses every action with that reason; without a scope only the
 * permissions count. And the token file's expiry reaches the principal (GET /v1/whoami shows it).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ACTION_PERMISSIONS, type Action, actionVerdicts } from './action-permissions.ts';
import type { Permission, Principal } from './permissions.ts';
import { hashToken, TokenAuthenticator } from './token-authenticator.ts';

const principal = (permissions: Permission[], scopes = ['*']): Principal => ({
  name: 't',
  permissions: new Set(permissions),
  scopes: new Set(scopes),
});

const allowed = (p: Principal, scope: string | null): Action[] =>
  (Object.entries(actionVerdicts(p, scope)) as [Action, { allowed: boolean }][]).filter(([, v]) => v.allowed).map(([a]) => a).sort();

describe('actionVerdicts', () => {
  const cases: [string, Permission[], Action[]][] = [
    ['admin', ['admin'], (Object.keys(ACTION_PERMISSIONS) as Action[]).sort()],
    ['reader', ['config:read', 'fleet:read'], ['config.read', 'fleet.read']],
    ['rollback only', ['config:rollback'], ['rollback', 'rollout.abort']],
    ['activate only', ['config:activate'], ['activate', 'rollout.abort', 'rollout.pause', 'rollout.resume']],
    ['activate-immediate only', ['config:activate-immediate'], ['rollout.promote']],
    ['policy', ['rollout:policy'], ['rollout.policy', 'scope.unfreeze']],
    ['writer', ['config:write'], ['generation.create']],
    ['auditor', ['audit:read'], ['audit.read']],
    ['nothing', [], []],
  ];
  for (const [name, permissions, expected] of cases) {
    it(`${name}: ${expected.join(', ') || 'no action'}`, () => {
      assert.deepEqual(allowed(principal(permissions), 'default'), expected);
      assert.deepEqual(allowed(principal(permissions), null), expected, 'without a scope: the permissions alone');
    });
  }

  it('a refusal names the permissions needed; an allowed action has no reason', () => {
    const v = actionVerdicts(principal(['config:read']), 'default');
    assert.deepEqual(v['rollout.abort'], { allowed: false, needs: ['config:activate', 'config:rollback'], reason: 'the token lacks permission config:activate or config:rollback' });
    assert.deepEqual(v['config.read'], { allowed: true, needs: ['config:read'], reason: null });
  });

  it('a scope outside the token patterns refuses everything, with that reason; a glob admits', () => {
    const eu = principal(['admin'], ['prod-*']);
    assert.deepEqual(allowed(eu, 'default'), []);
    assert.equal(actionVerdicts(eu, 'default').rollback.reason, 'the token may not access scope default');
    assert.equal(allowed(eu, 'prod-eu').length, Object.keys(ACTION_PERMISSIONS).length);
  });
});

describe('principal expiry', () => {
  it('the tokens file expiresAt reaches the principal as ISO 8601; absent → null', () => {
    const auth = TokenAuthenticator.fromJson(
      JSON.stringify({
        tokens: [
          { name: 'a', sha256: hashToken('a-token'), permissions: ['config:read'], scopes: ['*'], expiresAt: '2099-01-02T03:04:05+01:00' },
          { name: 'b', sha256: hashToken('b-token'), permissions: ['config:read'], scopes: ['*'] },
        ],
      }),
    );
    assert.equal(auth.authenticate('Bearer a-token')?.expiresAt, '2099-01-02T02:04:05.000Z');
    assert.equal(auth.authenticate('Bearer b-token')?.expiresAt, null);
  });
});
