import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FromControlPlane } from '@spooky/proto';
import { DesiredSnapshots } from './desired-snapshots.ts';
import { FakeSource, generation } from './fake-distribution-ports.ts';
import { planMessages } from './push-plan.ts';

describe('DesiredSnapshots', () => {
  it('reads and encodes a scope once, then serves every caller the same snapshot', () => {
    const source = new FakeSource();
    source.activate(generation('prod', 1));
    const snapshots = new DesiredSnapshots(source);
    const first = snapshots.desired('prod');
    for (let i = 0; i < 100; i++) assert.equal(snapshots.desired('prod'), first);
    assert.equal(source.reads, 1);
    assert.equal(snapshots.builds, 1);
    assert.equal(first?.seq, 1);
    assert.equal(first?.digest, generation('prod', 1).digest);
  });

  it('drops the snapshot on activation before telling its listeners, who see the new one', () => {
    const source = new FakeSource();
    source.activate(generation('prod', 1));
    const snapshots = new DesiredSnapshots(source);
    assert.equal(snapshots.desired('prod')?.seq, 1);
    const seen: (number | undefined)[] = [];
    snapshots.onActiveChanged((scope) => seen.push(snapshots.desired(scope)?.seq));
    source.activate(generation('prod', 2));
    assert.deepEqual(seen, [2]);
    assert.equal(snapshots.desired('prod')?.seq, 2);
    assert.equal(source.reads, 2);
  });

  it('keeps other scopes when one moves', () => {
    const source = new FakeSource();
    source.activate(generation('a', 1));
    source.activate(generation('b', 1));
    const snapshots = new DesiredSnapshots(source);
    const b = snapshots.desired('b');
    snapshots.desired('a');
    source.activate(generation('a', 2));
    assert.equal(snapshots.desired('b'), b);
    assert.equal(snapshots.desired('a')?.seq, 2);
    assert.equal(source.reads, 3);
  });

  it('remembers a scope with no activation as null (one read) until its first activation', () => {
    const source = new FakeSource();
    const snapshots = new DesiredSnapshots(source);
    assert.equal(snapshots.desired('fresh'), null);
    assert.equal(snapshots.desired('fresh'), null);
    assert.equal(source.reads, 1);
    assert.deepEqual(snapshots.held(), { scopes: 1, bytes: 0 });
    source.activate(generation('fresh', 1));
    assert.equal(snapshots.desired('fresh')?.seq, 1);
    assert.equal(source.reads, 2);
  });

  it('remembers nothing when the source throws: the next call reads again', () => {
    const source = new FakeSource();
    source.activate(generation('prod', 1));
    source.failWith = new Error('disk I/O error');
    const snapshots = new DesiredSnapshots(source);
    assert.throws(() => snapshots.desired('prod'), /disk I\/O error/);
    source.failWith = null;
    assert.equal(snapshots.desired('prod')?.seq, 1);
    assert.equal(source.reads, 2);
  });

  it('holds one encoded copy of the payload per scope; evict and close drop it', () => {
    const source = new FakeSource();
    const body = { seq: 3, filler: 'x'.repeat(50_000) };
    const gen = generation('prod', 3, body);
    source.activate(gen);
    const snapshots = new DesiredSnapshots(source, 16 * 1024);
    const snapshot = snapshots.desired('prod');
    assert.ok(snapshot);
    const { bytes } = snapshots.held();
    assert.ok(bytes >= gen.payload.byteLength && bytes < gen.payload.byteLength + 200, `held ${bytes} for ${gen.payload.byteLength}`);
    // What a session sends reassembles to the payload.
    const messages = planMessages(snapshot.planFor(''), 'nonce').map((m) => FromControlPlane.decode(m.toBuffer()).msg);
    const data = messages.flatMap((m) => (m?.$case === 'chunk' ? [m.value.data] : []));
    assert.equal(messages.length, 1 + Math.ceil(gen.payload.byteLength / (16 * 1024)));
    assert.deepEqual(Buffer.concat(data), Buffer.from(gen.payload));
    snapshots.evict('prod');
    assert.deepEqual(snapshots.held(), { scopes: 0, bytes: 0 });
    snapshots.desired('prod');
    snapshots.close();
    assert.deepEqual(snapshots.held(), { scopes: 0, bytes: 0 });
    source.activate(generation('prod', 4)); // no longer listened to: no throw, nothing rebuilt
    assert.equal(snapshots.builds, 2);
  });
});
