/**
 * PUT /v1/scopes/{scope}/active with staged rollouts (docs/rollout.md §6) against a real store and
 * the in-memory FakeRolloutControl: the strategy default and the first-activation exception,
 * 202 + Location, config:activate-immediate, every refusal of the rollout service as its problem
 * (423, 409 ×3, RolloutTargetInvalid's own status), the per-rollout policy's /policy pointers,
 * the live-rollout guard of immediate moves (abort_live), Idempotency-Key replays of a 202, and
 * 501 without a rollout service.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RolloutTargetInvalid } from '../rollout/rollout-control.ts';
import { type ApiKit, rolloutKit, writeHeaders } from './api-test-kit.ts';
import { FakeRolloutControl } from './fake-rollout-control.ts';

const json = { 'content-type': 'application/json' };
describe('REST API: PUT active with staged rollouts', () => {
  let dir: string;
  let kit: ApiKit;
  const fake = new FakeRolloutControl();
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spooky-rollout-api-'));
    kit = await rolloutKit(dir, fake);
  });
  after(async () => {
    await kit.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const version = async (): Promise<string> =>
    String((await kit.app.inject({ url: '/v1/scopes/default/active', headers: { authorization: 'Bearer reader-token' } })).headers.etag);
  const put = async (body: Record<string, unknown>, token = 'deployer-token', extra: Record<string, string> = {}) =>
    kit.app.inject({
      method: 'PUT',
      url: '/v1/scopes/default/active',
      headers: writeHeaders(token, { ...json, 'if-match': await version(), ...extra }),
      payload: JSON.stringify(body),
    });

  it('activates the first generation immediately even where the default is staged; an explicit staged asks the service', async () => {
    fake.defaults.set('default', 'staged');
    fake.notConverged.set('default', ['edge-1']);
    const staged = await put({ seq: 1, strategy: 'staged' });
    assert.equal(staged.statusCode, 409, staged.body);
    assert.equal(staged.json().code, 'fleet_not_converged');
    assert.equal(staged.json().lkgSeq, 1);
    assert.deepEqual(staged.json().nodes, ['edge-1']);
    fake.notConverged.delete('default');
    const first = await put({ seq: 1 });
    assert.equal(first.statusCode, 200, first.body);
    assert.equal(first.json().active.seq, 1);
    assert.equal(fake.starts.length, 0, 'no rollout for the first activation');
  });

  it('starts a staged rollout by default: 202, Location, the rollout; the service gets actor, reason and policy', async () => {
    const res = await put({ seq: 2, policy: { stages: [{ name: 'half', percent: 50, soak_ms: 1000 }, { name: 'fleet' }] } });
    assert.equal(res.statusCode, 202, res.body);
    const view = res.json();
    assert.equal(res.headers.location, `/v1/rollouts/${view.id}`);
    assert.equal(view.status, 'running');
    assert.equal(view.targetSeq, 2);
    assert.deepEqual(
      view.stages.map((s: { name: string }) => s.name),
      ['half', 'fleet'],
    );
    const start = fake.starts.at(-1);
    assert.equal(start?.actor, 'deployer');
    assert.equal(start?.reason, 'test change');
    assert.equal(start?.policy?.stages[0]?.percent, 50, 'the normalised policy is passed on');
    const got = await kit.app.inject({ url: String(res.headers.location), headers: { authorization: 'Bearer reader-token' } });
    assert.equal(got.statusCode, 200);
    assert.equal(got.json().id, view.id);
    assert.equal((await kit.app.inject({ url: '/v1/scopes/default/active', headers: { authorization: 'Bearer reader-token' } })).json().seq, 1, 'the pointer has not moved');
  });

  it('refuses moves while the rollout is live (409 rollout_in_progress with liveId) unless abort_live', async () => {
    const liveId = fake.live('default')?.id;
    assert.ok(liveId);
    const again = await put({ seq: 3, strategy: 'staged' });
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().code, 'rollout_in_progress');
    assert.equal(again.json().liveId, liveId);
    const immediate = await put({ seq: 3, strategy: 'immediate' }, 'releaser-token');
    assert.equal(immediate.statusCode, 409);
    assert.equal(immediate.json().liveId, liveId);
    const rollback = await kit.app.inject({ method: 'POST', url: '/v1/scopes/default/rollback', headers: writeHeaders('deployer-token', json), payload: { to: 'lkg' } });
    assert.equal(rollback.statusCode, 409);
    assert.equal(rollback.json().code, 'rollout_in_progress');
    const unknownSeq = await put({ seq: 99, strategy: 'immediate', abort_live: true }, 'releaser-token');
    assert.equal(unknownSeq.statusCode, 404, 'a move refused anyway aborts nothing');
    assert.equal(fake.get(liveId)?.status, 'running');
    const aborting = await put({ seq: 3, strategy: 'immediate', abort_live: true }, 'releaser-token');
    assert.equal(aborting.statusCode, 200, aborting.body);
    assert.equal(aborting.json().active.seq, 3);
    const aborted = fake.get(liveId);
    assert.equal(aborted?.status, 'aborted');
    assert.equal(aborted?.decisions.at(-1)?.actor, 'releaser');
  });

  it('needs config:activate-immediate for an immediate move where the default is staged (not for a dry run)', async () => {
    const denied = await put({ seq: 2, strategy: 'immediate' });
    assert.equal(denied.statusCode, 403);
    assert.match(denied.json().detail, /config:activate-immediate/);
    const dry = await put({ seq: 2, strategy: 'immediate', dryRun: true });
    assert.equal(dry.statusCode, 200, dry.body);
    fake.defaults.set('default', 'immediate');
    const plain = await put({ seq: 2 });
    assert.equal(plain.statusCode, 200, 'where the default is immediate, config:activate suffices');
    fake.defaults.set('default', 'staged');
  });

  it('checks the per-rollout policy (422, pointers under /policy), refuses policy or force where they do not apply', async () => {
    const bad = await put({ seq: 3, strategy: 'staged', policy: { stages: [{ name: 'Bad', percent: 0 }], bogus: 1 } });
    assert.equal(bad.statusCode, 422);
    assert.equal(bad.json().code, 'rollout_policy_invalid');
    const pointers = bad.json().issues.map((i: { pointer: string }) => i.pointer);
    for (const p of ['/policy/stages/0/name', '/policy/stages/0/percent', '/policy/bogus']) assert.ok(pointers.includes(p), `${p} in ${pointers}`);
    const notObject = await put({ seq: 3, policy: 7 });
    assert.deepEqual(
      notObject.json().issues.map((i: { pointer: string }) => i.pointer),
      ['/policy'],
    );
    const immediatePolicy = await put({ seq: 3, strategy: 'immediate', policy: {} }, 'releaser-token');
    assert.equal(immediatePolicy.statusCode, 400);
    const force = await put({ seq: 3, strategy: 'staged', force: true });
    assert.equal(force.statusCode, 400);
    const stale = await put({ seq: 3, strategy: 'staged' }, 'deployer-token', { 'if-match': '"1"' });
    assert.equal(stale.statusCode, 412, 'a staged start checks If-Match too');
    const strict = await put({ seq: 3, abort_live: 'yes' });
    assert.equal(strict.statusCode, 400);
    assert.ok(strict.json().issues.some((i: { pointer: string }) => i.pointer === '/abort_live'));
    assert.equal(fake.live('default'), null, 'nothing started');
  });

  it('answers the service refusals: 423 scope_frozen, RolloutTargetInvalid with its status and code', async () => {
    fake.freeze('default', 'two automatic rollbacks');
    const frozen = await put({ seq: 3 });
    assert.equal(frozen.statusCode, 423);
    assert.equal(frozen.json().code, 'scope_frozen');
    assert.equal(frozen.json().reason, 'two automatic rollbacks');
    assert.match(frozen.json().frozenAt, /^\d{4}-/);
    assert.match(String(frozen.headers['content-type']), /^application\/problem\+json/);
    fake.unfreeze('default', 'test', 'test');
    const invalid = new FakeRolloutControl({
      checkTarget: () => {
        throw new RolloutTargetInvalid('generation_already_active', 409, 'seq 3 is active already');
      },
    });
    const dir2 = mkdtempSync(join(tmpdir(), 'spooky-rollout-api-'));
    const kit2 = await rolloutKit(dir2, invalid);
    try {
      invalid.defaults.set('default', 'staged');
      const res = await kit2.app.inject({
        method: 'PUT',
        url: '/v1/scopes/default/active',
        headers: writeHeaders('admin-token', { ...json, 'if-match': '"0"' }),
        payload: { seq: 1, strategy: 'staged' },
      });
      assert.equal(res.statusCode, 409);
      assert.equal(res.json().code, 'generation_already_active');
      assert.equal(res.json().status, 409);
    } finally {
      await kit2.close();
      rmSync(dir2, { recursive: true, force: true });
    }
  });

  it('replays a 202 for the same Idempotency-Key (same Location, one rollout)', async () => {
    const key = { 'idempotency-key': 'staged-once' };
    const first = await put({ seq: 2, strategy: 'staged' }, 'deployer-token', key);
    assert.equal(first.statusCode, 202, first.body);
    const starts = fake.starts.length;
    const again = await put({ seq: 2, strategy: 'staged' }, 'deployer-token', key);
    assert.equal(again.statusCode, 202);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.equal(again.headers.location, first.headers.location);
    assert.equal(again.json().id, first.json().id);
    assert.equal(fake.starts.length, starts, 'the handler did not run again');
  });

  it('answers 501 rollouts_unavailable without a rollout service, and still activates immediately', async () => {
    const dir2 = mkdtempSync(join(tmpdir(), 'spooky-rollout-api-'));
    const bare = await rolloutKit(dir2, null);
    try {
      const headers = writeHeaders('admin-token', { ...json, 'if-match': '"0"' });
      const staged = await bare.app.inject({ method: 'PUT', url: '/v1/scopes/default/active', headers, payload: { seq: 1, strategy: 'staged' } });
      assert.equal(staged.statusCode, 501);
      assert.equal(staged.json().code, 'rollouts_unavailable');
      const get = await bare.app.inject({ url: '/v1/rollouts/ro-1', headers: { authorization: 'Bearer reader-token' } });
      assert.equal(get.statusCode, 501);
      const immediate = await bare.app.inject({ method: 'PUT', url: '/v1/scopes/default/active', headers, payload: { seq: 1 } });
      assert.equal(immediate.statusCode, 200);
    } finally {
      await bare.close();
      rmSync(dir2, { recursive: true, force: true });
    }
  });
});
