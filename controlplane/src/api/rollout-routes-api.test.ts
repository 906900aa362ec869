/**
 * /v1/rollouts and the freeze routes against a real store and the FakeRolloutControl: list and
 * get (scope access), operator actions with their permissions and 409 refusals, the long-poll
 * answering on finish, at the timeout and giving up when the client goes away, freeze/unfreeze,
 * and `rollout.<kind>` frames on a real SSE connection, filtered by scope.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RolloutView } from '../rollout/rollout-control.ts';
import { type ApiKit, rolloutKit, writeHeaders } from './api-test-kit.ts';
import { FakeRolloutControl } from './fake-rollout-control.ts';

const reader = { authorization: 'Bearer reader-token' };
const json = { 'content-type': 'application/json' };

describe('REST API: /v1/rollouts, freeze, rollout events', () => {
  let dir: string;
  let kit: ApiKit;
  const fake = new FakeRolloutControl();
  let listening: string | null = null;
  const listen = async (): Promise<string> => {
    listening ??= await kit.app.listen({ host: '127.0.0.1', port: 0 });
    return listening;
  };
  const start = (scope = 'default', seq = 2): RolloutView => fake.start({ scope, seq, actor: 'test' });
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spooky-rollout-routes-'));
    kit = await rolloutKit(dir, fake);
  });
  after(async () => {
    await kit.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const operate = (id: string, action: string, token: string, body: unknown = {}) =>
    kit.app.inject({ method: 'POST', url: `/v1/rollouts/${id}/${action}`, headers: writeHeaders(token, json), payload: JSON.stringify(body) });

  it('lists a scope newest first and shows one rollout, within the token scopes', async () => {
    const first = start();
    fake.finish(first.id, 'rolled_back', [{ rule: 'health.local_5xx.ratio', observed: 0.2, limit: 0.01 }]);
    const second = start();
    const list = await kit.app.inject({ url: '/v1/rollouts?scope=default&limit=10', headers: reader });
    assert.equal(list.statusCode, 200);
    assert.deepEqual(
      list.json().items.map((i: { id: string }) => i.id),
      [second.id, first.id],
    );
    assert.equal((await kit.app.inject({ url: '/v1/rollouts?scope=default&limit=1', headers: reader })).json().items.length, 1);
    assert.equal((await kit.app.inject({ url: '/v1/rollouts', headers: reader })).statusCode, 400, 'scope is required');
    assert.equal((await kit.app.inject({ url: '/v1/rollouts?scope=default&limit=500', headers: reader })).statusCode, 400);
    assert.equal((await kit.app.inject({ url: '/v1/rollouts?scope=default', headers: { authorization: 'Bearer eu-token' } })).statusCode, 403);
    const got = await kit.app.inject({ url: `/v1/rollouts/${first.id}`, headers: reader });
    assert.equal(got.statusCode, 200);
    assert.equal(got.json().status, 'rolled_back');
    assert.equal(got.json().lastEvaluation.numbers.failures[0].observed, 0.2, 'the failed gate numbers');
    assert.equal(got.json().stages[0].nodeCount, 1, 'per-stage node counts');
    assert.equal(got.json().totalDecisions, got.json().decisions.length);
    assert.equal((await kit.app.inject({ url: `/v1/rollouts/${first.id}`, headers: { authorization: 'Bearer eu-token' } })).statusCode, 403);
    const missing = await kit.app.inject({ url: '/v1/rollouts/ro-nope', headers: reader });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().code, 'rollout_not_found');
    assert.equal((await kit.app.inject({ url: '/v1/rollouts/ro-nope' })).statusCode, 401);
  });

  it('pauses, resumes, promotes and aborts with their permissions; refusals are 409 rollout_<refusal>', async () => {
    const id = fake.live('default')?.id;
    assert.ok(id);
    assert.equal((await operate(id, 'pause', 'reader-token')).statusCode, 403);
    const paused = await operate(id, 'pause', 'deployer-token', { reason: 'looking at graphs' });
    assert.equal(paused.statusCode, 200, paused.body);
    assert.equal(paused.json().status, 'paused');
    assert.equal(paused.json().decisions.at(-1).reason, 'looking at graphs', 'the body reason wins over the header');
    const twice = await operate(id, 'pause', 'deployer-token');
    assert.equal(twice.statusCode, 409);
    assert.equal(twice.json().code, 'rollout_not_running');
    const resumed = await operate(id, 'resume', 'deployer-token');
    assert.equal(resumed.json().status, 'running');
    assert.equal(resumed.json().decisions.at(-1).reason, 'test change', 'the header reason by default');
    assert.equal((await operate(id, 'resume', 'deployer-token')).json().code, 'rollout_not_paused');
    const promoteDenied = await operate(id, 'promote', 'deployer-token');
    assert.equal(promoteDenied.statusCode, 403);
    assert.match(promoteDenied.json().detail, /config:activate-immediate/);
    const promoted = await operate(id, 'promote', 'releaser-token');
    assert.equal(promoted.statusCode, 200);
    assert.equal(promoted.json().decisions.at(-1).kind, 'promoted_by_operator');
    const strict = await operate(id, 'abort', 'roller-token', { reason: 'x', bogus: true });
    assert.equal(strict.statusCode, 400);
    assert.ok(strict.json().issues.some((i: { pointer: string }) => i.pointer === '/bogus'));
    const badReason = await operate(id, 'abort', 'roller-token', { reason: 5 });
    assert.equal(badReason.statusCode, 400);
    assert.ok(badReason.json().issues.some((i: { pointer: string }) => i.pointer === '/reason'));
    assert.equal((await operate(id, 'abort', 'roller-token', [1])).statusCode, 400);
    const bare = await kit.app.inject({ method: 'POST', url: `/v1/rollouts/${id}/pause`, headers: writeHeaders('deployer-token') });
    assert.equal(bare.statusCode, 200, `a POST without a body works (curl -X POST): ${bare.body}`);
    assert.equal((await operate(id, 'resume', 'deployer-token')).statusCode, 200);
    const aborted = await operate(id, 'abort', 'roller-token');
    assert.equal(aborted.statusCode, 200, 'config:rollback may abort');
    assert.equal(aborted.json().status, 'aborted');
    assert.equal(aborted.json().final, true);
    const finished = await operate(id, 'abort', 'roller-token');
    assert.equal(finished.statusCode, 409);
    assert.equal(finished.json().code, 'rollout_finished');
    const noReason = await kit.app.inject({ method: 'POST', url: `/v1/rollouts/${id}/pause`, headers: { authorization: 'Bearer admin-token', ...json }, payload: '{}' });
    assert.equal(noReason.statusCode, 400);
    assert.equal(noReason.json().code, 'reason_required');
    assert.equal((await operate('ro-nope', 'pause', 'admin-token')).statusCode, 404);
  });

  it('long-polls: answers when the rollout finishes, at the timeout with final false, and at once when final', async () => {
    const live = start();
    const started = performance.now();
    const timedOut = await kit.app.inject({ url: `/v1/rollouts/${live.id}/wait?timeout=200ms`, headers: reader });
    assert.equal(timedOut.statusCode, 200);
    assert.equal(timedOut.json().final, false);
    assert.ok(performance.now() - started >= 150, 'waited for the timeout');
    const waiting = kit.app.inject({ url: `/v1/rollouts/${live.id}/wait?timeout=60s`, headers: reader });
    // Finishing before or after the handler registered its wait gives the same final answer.
    await new Promise<void>((resolve) => setImmediate(resolve));
    fake.advance(live.id);
    fake.advance(live.id);
    fake.advance(live.id);
    const done = await waiting;
    assert.equal(done.json().status, 'promoted');
    assert.equal(done.json().final, true);
    const again = await kit.app.inject({ url: `/v1/rollouts/${live.id}/wait`, headers: reader });
    assert.equal(again.json().status, 'promoted');
    for (const bad of ['soon', '-1', '5h']) {
      assert.equal((await kit.app.inject({ url: `/v1/rollouts/${live.id}/wait?timeout=${bad}`, headers: reader })).statusCode, 400, bad);
    }
  });

  it('stops waiting when the client goes away', async () => {
    const live = start();
    const signals: AbortSignal[] = [];
    const original = fake.waitFinished.bind(fake);
    fake.waitFinished = (id, ms, signal) => {
      if (signal) signals.push(signal);
      return original(id, ms, signal);
    };
    const address = await listen();
    try {
      const aborted = new Promise<void>((resolve, reject) => {
        const req = http.get(`${address}/v1/rollouts/${live.id}/wait?timeout=300s`, { headers: reader });
        req.on('error', () => {});
        const poll = (): void => {
          const signal = signals[0];
          if (!signal) {
            setImmediate(poll);
            return;
          }
          signal.addEventListener('abort', () => resolve(), { once: true });
          req.destroy();
        };
        poll();
        setTimeout(() => reject(new Error('the wait was not aborted within 10 s')), 10_000).unref();
      });
      await aborted;
      assert.equal(signals[0]?.aborted, true);
    } finally {
      fake.waitFinished = original;
      fake.operate(live.id, 'abort', 'test');
    }
  });

  it('shows and lifts a freeze (rollout:policy)', async () => {
    assert.equal((await kit.app.inject({ url: '/v1/scopes/default/freeze', headers: reader })).json().frozen, false);
    fake.freeze('default');
    const frozen = await kit.app.inject({ url: '/v1/scopes/default/freeze', headers: reader });
    assert.equal(frozen.json().frozen, true);
    assert.equal(frozen.json().rollbackStreak, 2);
    const unfreeze = (token: string) =>
      kit.app.inject({ method: 'POST', url: '/v1/scopes/default/unfreeze', headers: writeHeaders(token, json), payload: { reason: 'fixed the origin' } });
    assert.equal((await unfreeze('deployer-token')).statusCode, 403);
    const lifted = await unfreeze('policy-token');
    assert.equal(lifted.statusCode, 200);
    assert.deepEqual(lifted.json(), { scope: 'default', rollbackStreak: 0, frozen: false, frozenAt: null, reason: null });
  });

  it('streams rollout.<kind> events live to the streams that may see the scope', async () => {
    const address = await listen();
    const controller = new AbortController();
    const stream = async (token: string, query: string) => {
      const res = await fetch(`${address}/v1/events${query}`, { headers: { authorization: `Bearer ${token}` }, signal: controller.signal });
      assert.equal(res.status, 200);
      assert.ok(res.body);
      const body = res.body.getReader();
      const decoder = new TextDecoder();
      let text = '';
      return async (predicate: (t: string) => boolean): Promise<string> => {
        while (!predicate(text)) {
          const chunk = await body.read();
          if (chunk.done) throw new Error(`stream ended; got ${text}`);
          text += decoder.decode(chunk.value, { stream: true });
        }
        return text;
      };
    };
    try {
      const all = await stream('reader-token', '?scope=default');
      const eu = await stream('eu-token', '');
      await all((t) => t.includes(': connected'));
      await eu((t) => t.includes(': connected'));
      const ro = start('default', 3);
      const text = await all((t) => t.includes('event: rollout.stage_started'));
      const frame = text.split('\n\n').find((b) => b.startsWith('event: rollout.started'));
      assert.ok(frame, text);
      assert.ok(!frame.includes('\nid:') && !frame.startsWith('id:'), 'rollout frames carry no id');
      const data = JSON.parse(frame.split('\ndata: ')[1] ?? '{}');
      assert.equal(data.type, 'rollout.started');
      assert.equal(data.scope, 'default');
      assert.equal(data.data.rolloutId, ro.id);
      fake.operate(ro.id, 'abort', 'test');
      start('prod-eu', 1);
      const euText = await eu((t) => t.includes('event: rollout.started'));
      assert.ok(!euText.includes('"scope":"default"'), 'eu-token never sees scope default');
      assert.match(euText, /"scope":"prod-eu"/);
    } finally {
      controller.abort();
    }
  });
});
