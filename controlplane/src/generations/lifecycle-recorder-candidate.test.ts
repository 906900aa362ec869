/**
 * A candidate ACK (in-node canary) is not a serve, over the real store: the node record keeps
 * what the node serves, so a generation that nodes only hold as their candidate never becomes
 * the LKG, nor counts as converged, even once it is active (the last step of a staged rollout
 * moves the pointer before the last nodes are promoted). Only full ACKs do.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { composeControlPlane } from '../compose.ts';
import { openStore } from '../store/open-store.ts';
import { helloFacts } from '../testing/node-facts.ts';
import { CANDIDATE_ACK_PHASE } from './lifecycle-recorder.ts';

const dir = mkdtempSync(join(tmpdir(), 'spooky-candidate-ack-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const minimalYaml = readFileSync(new URL('../../../config/examples/minimal.yaml', import.meta.url), 'utf8');
const who = { actor: 'tester', reason: 'test' };
const at = new Date('2026-01-01T00:00:00Z');

describe('LKG and candidate ACKs', () => {
  it('a generation only held as candidate is neither LKG nor converged; full ACKs make it LKG', () => {
    const store = openStore(join(dir, 'candidate.db'));
    try {
      const { generations, active, recorder, fleet } = composeControlPlane(store, { clock: { now: () => at }, reportIntervalMs: 60_000 });
      const g1 = generations.create('default', { text: minimalYaml }, who).generation;
      const g2 = generations.create('default', { text: minimalYaml.replace('port: 9889', 'port: 3002') }, who).generation;
      assert.notEqual(g1.digest, g2.digest);
      const ref1 = { scope: 'default', seq: g1.seq, digest: g1.digest };
      const ref2 = { scope: 'default', seq: g2.seq, digest: g2.digest };
      for (const id of ['a', 'b']) recorder.connected(helloFacts(id, { at }));
      active.activate('default', g1.seq, 0, who);
      recorder.acked('a', 'a-boot', ref1, at);
      recorder.acked('b', 'b-boot', ref1, at);
      assert.equal(active.lkg('default')?.seq, g1.seq, 'both serve seq 1: LKG');

      // Both nodes hold seq 2 as their candidate; the pointer then moves to seq 2.
      recorder.acked('a', 'a-boot', ref2, at, true);
      recorder.acked('b', 'b-boot', ref2, at, true);
      active.activate('default', g2.seq, 1, who);
      recorder.reevaluate('default');
      assert.equal(active.lkg('default')?.seq, g1.seq, 'candidate ACKs do not make seq 2 the LKG');
      assert.deepEqual(
        fleet.listNodes('default').map((n) => [n.nodeId, n.serving?.seq]),
        [
          ['a', g1.seq],
          ['b', g1.seq],
        ],
        'the node records keep serving seq 1',
      );
      assert.equal(fleet.status('default').nodes.converged, 0);
      const history = fleet.getNode('a')?.history ?? [];
      assert.deepEqual([history[0]?.kind, history[0]?.seq, history[0]?.phase], ['acked', g2.seq, CANDIDATE_ACK_PHASE]);

      // A reconnect holding seq 2 as candidate beside seq 1 does not count as serving it either.
      recorder.connected(helloFacts('b', { bootId: 'b-boot', at, serving: ref1, candidate: ref2, source: 'control-plane' }));
      assert.equal(active.lkg('default')?.seq, g1.seq);

      // Promotes: full ACKs. LKG exactly at the last one.
      recorder.acked('a', 'a-boot', ref2, at);
      assert.equal(active.lkg('default')?.seq, g1.seq, 'one node still only holds it');
      recorder.acked('b', 'b-boot', ref2, at);
      assert.equal(active.lkg('default')?.seq, g2.seq);
      assert.equal(fleet.status('default').nodes.converged, 2);
    } finally {
      store.close();
    }
  });
});
