/**
 * The LKG rule during a rollout to many nodes, over the real store: the generation becomes LKG
 * exactly when the last node serves it, and the recorder does not list every node on every
 * Ack and Report meanwhile (the remembered blocker of lifecycle-recorder.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { composeControlPlane } from '../compose.ts';
import { openStore } from '../store/open-store.ts';
import { helloFacts } from '../testing/node-facts.ts';

const dir = mkdtempSync(join(tmpdir(), 'spooky-rollout-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const minimalYaml = readFileSync(new URL('../../../config/examples/minimal.yaml', import.meta.url), 'utf8');
const who = { actor: 'tester', reason: 'test' };
const at = new Date('2026-01-01T00:00:00Z');
const NODES = 60;

/** Deterministic shuffles: in order, reversed, and a fixed pseudo-random permutation. */
function orders(n: number): Record<string, number[]> {
  const inOrder = Array.from({ length: n }, (_, i) => i);
  const shuffled = [...inOrder];
  let x = 12345;
  for (let i = n - 1; i > 0; i--) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const j = x % (i + 1);
    [shuffled[i], shuffled[j]] = [shuffled[j] as number, shuffled[i] as number];
  }
  return { 'in order': inOrder, reversed: [...inOrder].reverse(), shuffled };
}

describe('LKG during a rollout', () => {
  for (const [name, order] of Object.entries(orders(NODES))) {
    it(`acks ${name}: LKG exactly at the last ack, Reports in between change nothing`, () => {
      const store = openStore(join(dir, `${name.replace(' ', '-')}.db`));
      try {
        let listings = 0;
        const list = store.nodes.listNodes.bind(store.nodes);
        store.nodes.listNodes = (scope) => {
          listings++;
          return list(scope);
        };
        const { generations, active, recorder } = composeControlPlane(store, { clock: { now: () => at }, reportIntervalMs: 1000 });
        const g = generations.create('default', { text: minimalYaml }, who).generation;
        const ids = Array.from({ length: NODES }, (_, i) => `node-${String(i).padStart(3, '0')}`);
        for (const id of ids) recorder.connected(helloFacts(id, { at }));
        active.activate('default', g.seq, 0, who);
        listings = 0;
        const ref = { scope: 'default', seq: g.seq, digest: g.digest };
        const served = new Set<number>();
        for (const [k, index] of order.entries()) {
          const id = ids[index] as string;
          assert.equal(active.lkg('default'), null, `not LKG before the last ack (${k} acked)`);
          recorder.acked(id, `${id}-boot`, ref, at);
          served.add(index);
          // Another node reports what it serves (the new generation or still nothing).
          const otherIndex = (index + 1) % NODES;
          const other = ids[otherIndex] as string;
          const serving = served.has(otherIndex);
          recorder.reported(other, `${other}-boot`, serving ? ref : null, serving ? 'control-plane' : 'none', at);
        }
        assert.equal(active.lkg('default')?.seq, g.seq);
        const facts = 2 * NODES;
        if (name === 'reversed') assert.ok(listings <= facts, `${listings} listings for ${facts} facts`);
        else assert.ok(listings <= 12, `${listings} listings of all ${NODES} nodes for ${facts} facts`);
      } finally {
        store.close();
      }
    });
  }
});
