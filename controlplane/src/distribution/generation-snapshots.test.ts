import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeSource, generation } from './fake-distribution-ports.ts';
import { GenerationSnapshots } from './generation-snapshots.ts';

/** Counts generation() reads of a FakeSource. */
function counting(source: FakeSource): { source: FakeSource; reads: () => number } {
  let reads = 0;
  const read = source.generation.bind(source);
  source.generation = (scope, seq) => {
    reads++;
    return read(scope, seq);
  };
  return { source, reads: () => reads };
}

describe('GenerationSnapshots', () => {
  it('reads a generation once and shares its lazily built plans', () => {
    const { source, reads } = counting(new FakeSource());
    const g = generation('s', 4, { pad: 'x'.repeat(1_000) });
    source.store(g);
    const snapshots = new GenerationSnapshots(source);
    const a = snapshots.get('s', 4);
    const b = snapshots.get('s', 4);
    assert.ok(a !== null && a === b);
    assert.equal(reads(), 1);
    assert.equal(snapshots.builds, 1);
    assert.deepEqual([a.seq, a.digest], [4, g.digest]);
    assert.equal(snapshots.held().bytes, g.payload.byteLength, 'no plan before the first push');
    assert.equal(a.planFor(''), a.planFor(''), 'one plan per encoding');
    assert.ok(snapshots.held().bytes > g.payload.byteLength);
  });

  it('does not remember a seq that does not exist (a later call reads again)', () => {
    const { source, reads } = counting(new FakeSource());
    const snapshots = new GenerationSnapshots(source);
    assert.equal(snapshots.get('s', 9), null);
    source.store(generation('s', 9));
    assert.equal(snapshots.get('s', 9)?.seq, 9);
    assert.equal(reads(), 2);
  });

  it('retain keeps only what sessions still name, per scope', () => {
    const source = new FakeSource();
    for (const seq of [1, 2, 3]) source.store(generation('s', seq));
    source.store(generation('t', 1));
    const snapshots = new GenerationSnapshots(source);
    for (const seq of [1, 2, 3]) snapshots.get('s', seq);
    snapshots.get('t', 1);
    assert.equal(snapshots.held().generations, 4);
    snapshots.retain('s', new Set([2]));
    assert.equal(snapshots.held().generations, 2, 'seq 2 of s and seq 1 of t');
    snapshots.retain('s', new Set());
    assert.equal(snapshots.held().generations, 1);
    snapshots.get('s', 2);
    assert.equal(snapshots.builds, 5, 'a dropped snapshot is read again when named again');
  });
});
