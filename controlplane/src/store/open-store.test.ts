import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ActiveService } from '../generations/active-service.ts';
import { GenerationService } from '../generations/generation-service.ts';
import { openStore } from './open-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'spooky-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const minimalYaml = readFileSync(new URL('../../../config/examples/minimal.yaml', import.meta.url), 'utf8');
const who = { actor: 'tester', reason: 'test' };
const clock = { now: () => new Date('2026-01-01T00:00:00Z') };

function variant(port: number): string {
  return minimalYaml.replace('port: 9889', `port: ${port}`);
}

function services(path: string) {
  const store = openStore(path);
  const deps = { repo: store.generations, audit: store.audit, clock };
  return { store, generations: new GenerationService(deps), active: new ActiveService(deps) };
}

describe('openStore', () => {
  it('applies migrations once; reopening is a no-op and keeps data', () => {
    const path = join(dir, 'reopen.db');
    const first = services(path);
    assert.deepEqual(first.store.appliedMigrations, [1, 2, 3, 4, 5]);
    assert.equal(first.store.db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(first.store.db.pragma('foreign_keys', { simple: true }), 1);
    first.generations.create('default', { text: minimalYaml, format: 'yaml' }, who);
    first.store.close();
    assert.equal(first.store.isReady(), false);

    const second = services(path);
    assert.deepEqual(second.store.appliedMigrations, []);
    assert.equal(second.generations.list('default').items.length, 1);
    second.store.close();
  });

  it('never reuses a seq, dedups identical content, and keeps scopes apart', () => {
    const { store, generations } = services(join(dir, 'seq.db'));
    const a = generations.create('default', { text: variant(1001) }, who);
    const b = generations.create('default', { text: variant(1002) }, who);
    const again = generations.create('default', { text: variant(1001) }, who);
    const other = generations.create('prod-eu', { text: variant(1001) }, who);
    assert.deepEqual([a.generation.seq, b.generation.seq], [1, 2]);
    assert.equal(again.deduplicated, true);
    assert.equal(again.generation.seq, 1);
    assert.equal(other.generation.seq, 1);
    const c = generations.create('default', { text: variant(1003) }, who);
    assert.equal(c.generation.seq, 3);
    assert.deepEqual(
      generations.list('default', 2).items.map((g) => g.seq),
      [3, 2],
    );
    assert.equal(generations.list('default', 2).next, 2);
    assert.deepEqual(
      generations.list('default', 2, 2).items.map((g) => g.seq),
      [1],
    );
    store.close();
  });

  it('activates with compare-and-swap, logs activations, chains the audit', () => {
    const { store, generations, active } = services(join(dir, 'cas.db'));
    generations.create('default', { text: variant(2001) }, who);
    generations.create('default', { text: variant(2002) }, who);
    const changed: string[] = [];
    active.onActiveChanged((scope) => changed.push(scope));

    assert.throws(() => active.activate('default', 1, 1, who), { code: 'precondition_failed' });
    assert.throws(() => active.activate('default', 9, 0, who), { code: 'generation_not_found' });
    const first = active.activate('default', 1, 0, who);
    assert.equal(first.active?.version, 1);
    assert.throws(() => active.activate('default', 2, 0, who), { code: 'precondition_failed' });
    const second = active.activate('default', 2, 1, who);
    assert.equal(second.active?.version, 2);
    assert.deepEqual(changed, ['default', 'default']);

    const desired = active.desired('default');
    assert.equal(desired?.seq, 2);
    assert.equal(Buffer.from(desired?.payload ?? []).toString('utf8'), generations.get('default', 2).payload);

    const back = active.rollback('default', 'previous', null, who);
    assert.equal(back.active?.seq, 1);
    assert.equal(back.active?.version, 3);
    // Not an undo toggle: 2 was rolled back from, so `previous` has nothing left to offer.
    assert.throws(() => active.rollback('default', 'previous', 3, who), { code: 'nothing_to_rollback' });
    const forth = active.rollback('default', 2, 3, who);
    assert.equal(forth.active?.seq, 2);
    assert.throws(() => active.rollback('default', 2, null, who), { code: 'nothing_to_rollback' });

    const kinds = store.db.prepare('SELECT kind, version FROM activations ORDER BY version').all();
    assert.deepEqual(
      kinds.map((r) => (r as { kind: string }).kind),
      ['activate', 'activate', 'rollback', 'rollback'],
    );
    assert.equal(store.audit.all().length, 6);
    assert.equal(store.audit.verify(), null);
    assert.throws(() => store.db.prepare('DELETE FROM audit').run(), /append-only/);
    store.close();
  });

  it('records nodes per boot and ignores messages from an older boot', () => {
    const { store } = services(join(dir, 'nodes.db'));
    const at = new Date('2026-01-01T00:00:00Z');
    const ref = { scope: 'default', seq: 1, digest: `sha256:${'a'.repeat(64)}` };
    const hello = {
      nodeId: 'n1',
      bootId: 'b1',
      scope: 'default',
      labels: { zone: 'a' },
      schemaMin: 1,
      schemaMax: 1,
      build: 'test',
      serving: null,
      source: 'none' as const,
      at,
    };
    store.nodes.connected(hello);
    store.nodes.acked('n1', 'b1', ref, at);
    store.nodes.acked('n1', 'old-boot', { ...ref, seq: 7 }, at);
    const node = store.nodes.getNode('n1');
    assert.deepEqual(node?.serving, { seq: 1, digest: ref.digest });
    assert.equal(node?.source, 'control-plane');
    assert.deepEqual(node?.lastAck, { seq: 1, digest: ref.digest, at: at.toISOString() });
    store.nodes.nacked({
      nodeId: 'n1',
      bootId: 'b1',
      nonce: 'x',
      rejected: { ...ref, seq: 2 },
      stillServing: ref,
      phase: 'compile',
      retryable: false,
      issues: [{ pointer: '/listen', code: 'listen.busy', message: 'busy' }],
      at,
    });
    assert.equal(store.nodes.getNode('n1')?.lastNack?.phase, 'compile');
    store.nodes.disconnected('n1', 'b1', at);
    assert.equal(store.nodes.listNodes('default')[0]?.state, 'disconnected');
    store.nodes.connected({ ...hello, bootId: 'b2' });
    assert.equal(store.nodes.getNode('n1')?.lastNack, null);
    assert.equal(store.nodes.listNodes('other').length, 0);
    store.close();
  });
});
