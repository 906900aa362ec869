import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { composeControlPlane } from '../compose.ts';
import type { NodeHelloFacts } from '../distribution/ports.ts';
import { ActiveService } from '../generations/active-service.ts';
import { helloFacts } from '../testing/node-facts.ts';
import { openStore } from './open-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'spooky-lifecycle-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const minimalYaml = readFileSync(new URL('../../../config/examples/minimal.yaml', import.meta.url), 'utf8');
const who = { actor: 'tester', reason: 'test' };
const at = new Date('2026-01-01T00:00:00Z');
const variant = (port: number): string => minimalYaml.replace('port: 9889', `port: ${port}`);

function hello(nodeId: string, overrides: Partial<NodeHelloFacts> = {}): NodeHelloFacts {
  return helloFacts(nodeId, { at, ...overrides });
}

function open(name: string, options: { eventRetention?: number } = {}) {
  const store = openStore(join(dir, name), options);
  const core = composeControlPlane(store, { clock: { now: () => at }, reportIntervalMs: 1000 });
  return { store, ...core };
}

describe('config lifecycle in the store', () => {
  it('records LKG once every connected node serves the active generation, and marks NACKed generations failed', () => {
    const { store, generations, active, recorder } = open('lkg.db');
    const g1 = generations.create('default', { text: variant(3001) }, who).generation;
    const g2 = generations.create('default', { text: variant(3002) }, who).generation;
    active.activate('default', 1, 0, who);
    const ref = (g: typeof g1) => ({ scope: 'default', seq: g.seq, digest: g.digest });

    recorder.connected(hello('n1'));
    recorder.connected(hello('n2'));
    recorder.acked('n1', 'n1-boot', ref(g1), at);
    assert.equal(active.lkg('default'), null, 'n2 does not serve it yet');
    recorder.acked('n2', 'old-boot', ref(g1), at);
    assert.equal(active.lkg('default'), null, 'an ack from an older boot counts for nothing');
    recorder.acked('n2', 'n2-boot', ref(g1), at);
    assert.equal(active.lkg('default')?.seq, 1);

    active.activate('default', 2, 1, who);
    recorder.acked('n1', 'n1-boot', ref(g2), at);
    recorder.nacked({
      nodeId: 'n2',
      bootId: 'n2-boot',
      nonce: 'x',
      rejected: ref(g2),
      stillServing: ref(g1),
      phase: 'compile',
      retryable: false,
      issues: [{ pointer: '/listen', code: 'listen.busy', message: 'address in use' }],
      at,
    });
    const failed = generations.get('default', 2);
    assert.match(failed.failedReason ?? '', /node n2 rejected it in phase compile: listen\.busy at \/listen/);
    assert.equal(generations.get('default', 1).failedReason, null);
    recorder.disconnected('n2', 'n2-boot', at);
    assert.equal(active.lkg('default')?.seq, 1, 'a failed generation never becomes LKG');

    const back = active.rollback('default', 'lkg', 2, who);
    assert.equal(back.active?.seq, 1);
    assert.throws(() => active.activate('default', 2, 3, who), { code: 'generation_failed' });
    assert.equal(active.activate('default', 2, 3, who, { force: true }).active?.seq, 2);

    const actions = store.audit.all().map((r) => r.action);
    assert.deepEqual(
      actions.filter((a) => a.startsWith('generation.') && a !== 'generation.create'),
      ['generation.lkg', 'generation.failed'],
    );
    const types = store.events.after(0, null, 100).map((e) => e.type);
    for (const t of ['generation.created', 'active.changed', 'node.connected', 'node.acked', 'node.nacked', 'node.disconnected', 'generation.lkg', 'generation.failed']) {
      assert.ok(types.includes(t as never), `event ${t} recorded`);
    }
    assert.equal(store.audit.verify(), null);
    const history = store.nodeHistory.history('n2', 20);
    assert.deepEqual(
      history.map((h) => h.kind),
      ['disconnected', 'nacked', 'acked', 'connected'],
    );
    assert.equal(history[1]?.phase, 'compile');
    store.close();
  });

  it('refuses a generation outside the schema range of a connected node (422), ignoring disconnected ones', () => {
    const { store, generations, active, recorder } = open('schema.db');
    generations.create('default', { text: variant(3101) }, who);
    recorder.connected(hello('old', { schemaMin: 0, schemaMax: 0 }));
    recorder.connected(hello('ok'));
    assert.throws(
      () => active.activate('default', 1, 0, who, { dryRun: true }),
      (err: { code: string; extensions: { nodes: { nodeId: string }[] } }) =>
        err.code === 'schema_unsupported' && err.extensions.nodes.map((n) => n.nodeId).join() === 'old',
    );
    recorder.disconnected('old', 'old-boot', at);
    assert.equal(active.activate('default', 1, 0, who).active?.seq, 1);
    store.close();
  });

  it('keeps a bounded event log and a bounded node history', () => {
    const { store } = open('bounded.db', { eventRetention: 5 });
    for (let i = 0; i < 8; i += 1) store.events.append({ type: 'node.acked', scope: 'default', data: { i }, at: at.toISOString() });
    assert.deepEqual(store.events.window(), { oldest: 4, latest: 8 });
    assert.deepEqual(
      store.events.after(0, null, 100).map((e) => e.id),
      [4, 5, 6, 7, 8],
    );
    assert.deepEqual(store.events.after(6, 'default', 100).map((e) => e.data), [{ i: 6 }, { i: 7 }]);
    assert.equal(store.events.after(0, 'other', 100).length, 0);
    for (let i = 0; i < 60; i += 1) {
      store.nodeHistory.record('n', { kind: 'acked', bootId: 'b', seq: i, digest: 'd', phase: null, at: at.toISOString() });
    }
    const history = store.nodeHistory.history('n', 100);
    assert.equal(history.length, 50);
    assert.equal(history[0]?.seq, 59);
    store.close();
  });

  it('detects a tampered audit row at its id', () => {
    const { store, generations } = open('tamper.db');
    for (let i = 0; i < 3; i += 1) generations.create('default', { text: variant(3200 + i) }, who);
    assert.deepEqual(store.audit.check(), { ok: true, entries: 3 });
    store.db.exec('DROP TRIGGER audit_append_only_u');
    store.db.prepare("UPDATE audit SET detail = json_set(detail, '$.reason', 'forged') WHERE id = 2").run();
    const result = store.audit.check();
    assert.equal(result.ok, false);
    assert.equal(result.ok === false && result.brokenAt, 2);
    store.close();
  });

  it('lets exactly one of two racing activations with the same If-Match win, across two connections', () => {
    const path = join(dir, 'race.db');
    const first = open('race.db');
    first.generations.create('default', { text: variant(3301) }, who);
    first.generations.create('default', { text: variant(3302) }, who);
    const second = openStore(path);
    const otherActive = new ActiveService({ repo: second.generations, audit: second.audit, clock: { now: () => at } });
    const outcomes = [
      () => first.active.activate('default', 1, 0, who),
      () => otherActive.activate('default', 2, 0, who),
    ].map((attempt) => {
      try {
        return attempt().active?.version;
      } catch (err) {
        return (err as { code: string }).code;
      }
    });
    assert.deepEqual(outcomes, [1, 'precondition_failed']);
    assert.equal(otherActive.getActive('default')?.seq, 1);
    assert.equal(second.audit.verify(), null);
    second.close();
    first.store.close();
  });
});
