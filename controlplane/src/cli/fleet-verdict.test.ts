import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type FleetNode, fleetVerdict } from './fleet-verdict.ts';

const target = { seq: 5, digest: 'sha256:five' };
const issue = { pointer: '/listeners/0/tls/cert', code: 'tls.cert.unreadable', message: 'no such file' };

function node(nodeId: string, over: Partial<FleetNode> = {}): FleetNode {
  return { nodeId, state: 'connected', serving: { seq: 4, digest: 'sha256:four' }, lastNack: null, ...over };
}
const serving = { seq: 5, digest: 'sha256:five' };
const nack = (retryable: boolean) => ({ seq: 5, digest: 'sha256:five', phase: 'compile', retryable, issues: [issue] });

describe('fleetVerdict', () => {
  it('no connected node: converged at once (nothing to wait for); others are listed, not awaited', () => {
    assert.deepEqual(fleetVerdict(target, 5, []), { kind: 'converged', nodes: [], ignored: [] });
    assert.deepEqual(fleetVerdict(target, 5, [node('a', { state: 'disconnected' }), node('b', { state: 'stale' })]), {
      kind: 'converged',
      nodes: [],
      ignored: ['a', 'b'],
    });
  });

  it('converged when every connected node serves the target digest', () => {
    const v = fleetVerdict(target, 5, [node('a', { serving }), node('b', { serving }), node('c', { state: 'disconnected' })]);
    assert.deepEqual(v, { kind: 'converged', nodes: ['a', 'b'], ignored: ['c'] });
  });

  it('pending while a connected node serves something else', () => {
    const v = fleetVerdict(target, 5, [node('a', { serving }), node('b')]);
    assert.deepEqual(v, { kind: 'pending', converged: ['a'], waitingFor: ['b'], missing: [], shortBy: 0 });
  });

  it('a NACK of the target is final, with the node issues', () => {
    const v = fleetVerdict(target, 5, [node('a', { lastNack: nack(false) }), node('b')]);
    assert.deepEqual(v, { kind: 'rejected', rejections: [{ nodeId: 'a', phase: 'compile', retryable: false, issues: [issue] }] });
  });

  it('a NACK of another digest does not count; a node that later served the target is converged', () => {
    const old = { ...nack(false), seq: 3, digest: 'sha256:three' };
    assert.equal(fleetVerdict(target, 5, [node('a', { lastNack: old })]).kind, 'pending');
    assert.equal(fleetVerdict(target, 5, [node('a', { serving, lastNack: nack(false) })]).kind, 'converged');
  });

  it('a retryable NACK ends the wait too (CI wants the answer now), marked retryable', () => {
    const v = fleetVerdict(target, 5, [node('a', { lastNack: nack(true) }), node('b', { serving })]);
    assert.deepEqual(v, { kind: 'rejected', rejections: [{ nodeId: 'a', phase: 'compile', retryable: true, issues: [issue] }] });
  });

  it('--min-nodes: fewer serving nodes than asked stays pending (ends in a timeout), however few are connected', () => {
    assert.deepEqual(fleetVerdict(target, 5, [], { minNodes: 1, requireNodes: [] }), {
      kind: 'pending',
      converged: [],
      waitingFor: [],
      missing: [],
      shortBy: 1,
    });
    const one = [node('a', { serving }), node('b', { state: 'disconnected', serving })];
    assert.deepEqual(fleetVerdict(target, 5, one, { minNodes: 1, requireNodes: [] }), { kind: 'converged', nodes: ['a'], ignored: ['b'] });
    const short = fleetVerdict(target, 5, one, { minNodes: 2, requireNodes: [] });
    assert.deepEqual(short, { kind: 'pending', converged: ['a'], waitingFor: [], missing: [], shortBy: 1 }, 'a disconnected node never counts');
    assert.equal(fleetVerdict(target, 5, [node('a', { serving }), node('b', { serving })], { minNodes: 2, requireNodes: [] }).kind, 'converged');
  });

  it('--min-nodes 0 keeps the old rule: all connected nodes serve the target (none connected → converged)', () => {
    assert.equal(fleetVerdict(target, 5, [], { minNodes: 0, requireNodes: [] }).kind, 'converged');
    assert.equal(fleetVerdict(target, 5, [node('a', { serving }), node('b')], { minNodes: 1, requireNodes: [] }).kind, 'pending');
  });

  it('--require-nodes: a required node that is not connected (or absent) is missing; one that serves the target counts', () => {
    const nodes = [node('a', { serving }), node('b', { state: 'stale', serving })];
    assert.deepEqual(fleetVerdict(target, 5, nodes, { minNodes: 0, requireNodes: ['a', 'b', 'c'] }), {
      kind: 'pending',
      converged: ['a'],
      waitingFor: [],
      missing: ['b', 'c'],
      shortBy: 0,
    });
    assert.deepEqual(fleetVerdict(target, 5, nodes, { minNodes: 0, requireNodes: ['a'] }), { kind: 'converged', nodes: ['a'], ignored: ['b'] });
    const waiting = fleetVerdict(target, 5, [node('a')], { minNodes: 0, requireNodes: ['a'] });
    assert.deepEqual(waiting, { kind: 'pending', converged: [], waitingFor: ['a'], missing: [], shortBy: 0 });
  });

  it('a NACK or a moved pointer wins over an unmet need', () => {
    const need = { minNodes: 3, requireNodes: ['z'] };
    assert.equal(fleetVerdict(target, 5, [node('a', { lastNack: nack(false) })], need).kind, 'rejected');
    assert.equal(fleetVerdict(target, 4, [], need).kind, 'superseded');
  });

  it('superseded when the active pointer no longer names the target', () => {
    assert.deepEqual(fleetVerdict(target, 4, [node('a')]), { kind: 'superseded', activeSeq: 4 });
    assert.deepEqual(fleetVerdict(target, null, []), { kind: 'superseded', activeSeq: null });
  });
});
