/**
 * The distribution snapshot over the real ActiveService and SQLite store: activation and
 * rollback replace it before the server re-decides, a failed move leaves it alone, and a
 * scope never activated is null.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DesiredSnapshots } from '../distribution/desired-snapshots.ts';
import { openStore } from '../store/open-store.ts';
import { ActiveService } from './active-service.ts';
import { GenerationService } from './generation-service.ts';

const dir = mkdtempSync(join(tmpdir(), 'spooky-snapshot-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const minimalYaml = readFileSync(new URL('../../../config/examples/minimal.yaml', import.meta.url), 'utf8');
const who = { actor: 'tester', reason: 'test' };
const clock = { now: () => new Date('2026-01-01T00:00:00Z') };

describe('DesiredSnapshots over ActiveService', () => {
  it('follows activate and rollback, ignores refused moves, and is null for a scope never activated', () => {
    const store = openStore(join(dir, 'snap.db'));
    try {
      const deps = { repo: store.generations, audit: store.audit, clock };
      const generations = new GenerationService(deps);
      const active = new ActiveService(deps);
      const g1 = generations.create('default', { text: minimalYaml.replace('port: 9889', 'port: 3001') }, who).generation;
      const g2 = generations.create('default', { text: minimalYaml.replace('port: 9889', 'port: 3002') }, who).generation;
      const snapshots = new DesiredSnapshots(active);
      const seenByListener: (number | undefined)[] = [];
      snapshots.onActiveChanged((scope) => seenByListener.push(snapshots.desired(scope)?.seq));

      assert.equal(snapshots.desired('default'), null);
      assert.equal(snapshots.desired('elsewhere'), null);

      active.activate('default', g1.seq, 0, who);
      const first = snapshots.desired('default');
      assert.equal(first?.seq, g1.seq);
      assert.equal(first?.digest, generations.get('default', g1.seq).digest);
      assert.equal(first?.planFor('').totalSize, Buffer.byteLength(generations.get('default', g1.seq).payload));
      assert.equal(first?.schemaVersion, 1);

      active.activate('default', g2.seq, 1, who);
      assert.equal(snapshots.desired('default')?.seq, g2.seq);

      // Refused moves (stale version, dry run) leave the snapshot as it is.
      assert.throws(() => active.activate('default', g1.seq, 1, who), { code: 'precondition_failed' });
      const afterRefusal = snapshots.desired('default');
      active.activate('default', g1.seq, 2, who, { dryRun: true });
      assert.equal(snapshots.desired('default'), afterRefusal);
      assert.equal(afterRefusal?.seq, g2.seq);

      active.rollback('default', 'previous', null, who);
      assert.equal(snapshots.desired('default')?.seq, g1.seq);
      assert.deepEqual(seenByListener, [g1.seq, g2.seq, g1.seq]);
      assert.equal(snapshots.desired('elsewhere'), null);
      assert.equal(snapshots.builds, 5, 'two nulls, then one build per move');
      snapshots.close();
    } finally {
      store.close();
    }
  });
});
