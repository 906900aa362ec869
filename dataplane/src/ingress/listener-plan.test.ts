import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ListenerIdentity, planListeners } from './listener-plan.ts';

const A = Buffer.from('cert-a');
const B = Buffer.from('cert-b');
const K = Buffer.from('key');
const l = (address: string, port: number, cert = A): ListenerIdentity => ({ address, port, cert, key: K });

describe('planListeners', () => {
  it('keeps identical listeners', () => {
    const p = planListeners([l('127.0.0.1', 1)], [l('127.0.0.1', 1)]);
    assert.deepEqual(p, { keep: [[0, 0]], swap: [], openFirst: [], closeForReplace: [], openAfterClose: [], closeAfterSwap: [] });
  });

  it('swaps the certificate of a listener whose default certificate changed (no socket closed)', () => {
    const p = planListeners([l('127.0.0.1', 1)], [l('127.0.0.1', 1, B)]);
    assert.deepEqual(p, { keep: [], swap: [[0, 0]], openFirst: [], closeForReplace: [], openAfterClose: [], closeAfterSwap: [] });
  });

  it('swaps each of several listeners on their own ports, keeping the unchanged ones', () => {
    const p = planListeners([l('127.0.0.1', 1), l('127.0.0.1', 2)], [l('127.0.0.1', 2, B), l('127.0.0.1', 1)]);
    assert.deepEqual(p, { keep: [[1, 0]], swap: [[0, 1]], openFirst: [], closeForReplace: [], openAfterClose: [], closeAfterSwap: [] });
  });

  it('replaces across addresses on the same port', () => {
    const p = planListeners([l('127.0.0.1', 1)], [l('0.0.0.0', 1)]);
    assert.deepEqual(p.closeForReplace, [0]);
    assert.deepEqual(p.openAfterClose, [0]);
  });

  it('opens new ports first and closes removed ones after the swap', () => {
    const p = planListeners([l('127.0.0.1', 1), l('127.0.0.1', 2)], [l('127.0.0.1', 2), l('127.0.0.1', 3)]);
    assert.deepEqual(p, { keep: [[0, 1]], swap: [], openFirst: [1], closeForReplace: [], openAfterClose: [], closeAfterSwap: [0] });
  });

  it('never treats port 0 as a conflict', () => {
    const p = planListeners([l('127.0.0.1', 0, B)], [l('127.0.0.1', 0)]);
    assert.deepEqual(p.swap, []);
    assert.deepEqual(p.openFirst, [0]);
    assert.deepEqual(p.closeAfterSwap, [0]);
  });
});
