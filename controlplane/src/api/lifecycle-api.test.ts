import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NodeHelloFacts } from '../distribution/ports.ts';
import { helloFacts } from '../testing/node-facts.ts';
import { type ApiKit, MINIMAL_YAML, startApiKit, writeHeaders } from './api-test-kit.ts';

const reader = { authorization: 'Bearer reader-token' };
const json = { 'content-type': 'application/json' };
const variant = (port: number): string => MINIMAL_YAML.replace('port: 9889', `port: ${port}`);

describe('REST API: LKG, failed generations, schema range, fleet state', () => {
  let kit: ApiKit;
  let nowMs = Date.parse('2026-03-01T00:00:00Z');
  const now = () => new Date(nowMs);
  const digests: string[] = [];
  before(async () => {
    kit = startApiKit({ now, reportIntervalMs: 1000 });
    for (const port of [4001, 4002, 4003]) {
      const res = await kit.app.inject({
        method: 'POST',
        url: '/v1/scopes/default/generations',
        headers: writeHeaders('admin-token', { 'content-type': 'application/yaml' }),
        body: variant(port),
      });
      digests.push(res.json().digest);
    }
  });
  after(() => kit.close());

  const ref = (seq: number) => ({ scope: 'default', seq, digest: digests[seq - 1] ?? '' });
  const hello = (nodeId: string, extra: Partial<NodeHelloFacts> = {}): NodeHelloFacts =>
    helloFacts(nodeId, { bootId: 'b1', at: now(), ...extra });
  const activeNow = async () => (await kit.app.inject({ url: '/v1/scopes/default/active', headers: reader })).json();
  const put = (seq: number, version: number, extra: Record<string, unknown> = {}) =>
    kit.app.inject({
      method: 'PUT',
      url: '/v1/scopes/default/active',
      headers: writeHeaders('admin-token', { ...json, 'if-match': `"${version}"` }),
      payload: { seq, ...extra },
    });
  const rollback = (to: unknown, extra: Record<string, unknown> = {}) =>
    kit.app.inject({
      method: 'POST',
      url: '/v1/scopes/default/rollback',
      headers: writeHeaders('admin-token', json),
      payload: { to, ...extra },
    });

  it('reports lkgSeq once every connected node serves the active generation; rollback to lkg', async () => {
    assert.equal((await activeNow()).lkgSeq, null);
    assert.equal((await put(1, 0)).statusCode, 200);
    const none = await rollback('lkg');
    assert.equal(none.statusCode, 409);
    assert.equal(none.json().code, 'nothing_to_rollback');

    kit.recorder.connected(hello('a'));
    kit.recorder.connected(hello('b'));
    kit.recorder.acked('a', 'b1', ref(1), now());
    assert.equal((await activeNow()).lkgSeq, null);
    kit.recorder.acked('b', 'b1', ref(1), now());
    assert.equal((await activeNow()).lkgSeq, 1);

    assert.equal((await put(2, 1)).statusCode, 200);
    kit.recorder.acked('a', 'b1', ref(2), now());
    const back = await rollback('lkg');
    assert.equal(back.statusCode, 200);
    assert.equal(back.json().active.seq, 1);
    assert.equal(back.json().active.lkgSeq, 1);
    kit.recorder.acked('a', 'b1', ref(1), now());
  });

  it('marks a generation failed after a non-retryable NACK: 409 unless force', async () => {
    const version = (await activeNow()).version as number;
    assert.equal((await put(3, version)).statusCode, 200);
    kit.recorder.nacked({
      nodeId: 'b',
      bootId: 'b1',
      nonce: 'n',
      rejected: ref(3),
      stillServing: ref(1),
      phase: 'compile',
      retryable: false,
      issues: [{ pointer: '/listeners/0', code: 'listen.busy', message: 'in use' }],
      at: now(),
    });
    const view = (await kit.app.inject({ url: '/v1/scopes/default/generations/3', headers: reader })).json();
    assert.equal(view.failed, true);
    assert.match(view.failedReason, /node b rejected it in phase compile/);
    const list = (await kit.app.inject({ url: '/v1/scopes/default/generations', headers: reader })).json();
    assert.deepEqual(
      list.items.map((g: { seq: number; failed: boolean }) => [g.seq, g.failed]),
      [
        [3, true],
        [2, false],
        [1, false],
      ],
    );
    const backToOne = await rollback(1);
    assert.equal(backToOne.statusCode, 200);
    const v = backToOne.json().active.version as number;
    const refused = await put(3, v);
    assert.equal(refused.statusCode, 409);
    assert.equal(refused.json().code, 'generation_failed');
    assert.equal(refused.json().seq, 3);
    assert.equal((await put(3, v, { dryRun: true })).statusCode, 409);
    const forced = await put(3, v, { force: true });
    assert.equal(forced.statusCode, 200);
    assert.equal(forced.json().active.seq, 3);
    assert.equal((await rollback(1)).statusCode, 200);
  });

  it('refuses activation outside a connected node’s schema range with 422 naming the nodes', async () => {
    kit.recorder.connected(hello('legacy', { schemaMin: 0, schemaMax: 0 }));
    const version = (await activeNow()).version as number;
    const res = await put(2, version);
    assert.equal(res.statusCode, 422);
    assert.equal(res.json().code, 'schema_unsupported');
    assert.match(res.headers['content-type'] as string, /^application\/problem\+json/);
    assert.deepEqual(
      res.json().nodes.map((n: { nodeId: string }) => n.nodeId),
      ['legacy'],
    );
    assert.equal((await rollback(2)).statusCode, 422);
    kit.recorder.disconnected('legacy', 'b1', now());
  });

  it('derives stale nodes at read time and shows per-node history', async () => {
    const status = (await kit.app.inject({ url: '/v1/scopes/default/status', headers: reader })).json();
    assert.equal(status.lkgSeq, 1);
    assert.deepEqual(status.active, { seq: 1, digest: digests[0] });
    assert.deepEqual(status.nodes, { total: 3, connected: 2, stale: 0, disconnected: 1, converged: 2, nacking: 0 });

    nowMs += 3001; // three report intervals (1 s each) without a word from a or b
    kit.recorder.reported('a', 'b1', ref(1), 'control-plane', now());
    const later = (await kit.app.inject({ url: '/v1/scopes/default/status', headers: reader })).json();
    assert.deepEqual(later.nodes, { total: 3, connected: 1, stale: 1, disconnected: 1, converged: 2, nacking: 0 });
    assert.deepEqual(later.byGeneration, [{ seq: 1, digest: digests[0], count: 2 }]);
    const nodes = (await kit.app.inject({ url: '/v1/nodes?scope=default', headers: reader })).json();
    assert.deepEqual(
      nodes.items.map((n: { nodeId: string; state: string }) => `${n.nodeId}:${n.state}`),
      ['a:connected', 'b:stale', 'legacy:disconnected'],
    );

    const b = (await kit.app.inject({ url: '/v1/nodes/b', headers: reader })).json();
    assert.equal(b.state, 'stale');
    assert.deepEqual(
      b.history.map((h: { kind: string; seq?: number; phase?: string }) => [h.kind, h.seq ?? null, h.phase ?? null]),
      [
        ['nacked', 3, 'compile'],
        ['acked', 1, null],
        ['connected', null, null],
      ],
    );
  });

  it('lets exactly one of two racing activations with the same If-Match win (412 for the other)', async () => {
    kit.recorder.disconnected('a', 'b1', now());
    kit.recorder.disconnected('b', 'b1', now());
    const version = (await activeNow()).version as number;
    const [x, y] = await Promise.all([put(2, version), put(3, version, { force: true })]);
    assert.deepEqual([x.statusCode, y.statusCode].sort(), [200, 412]);
    assert.equal((await activeNow()).version, version + 1);
    assert.equal(kit.store.audit.verify(), null);
  });
});
