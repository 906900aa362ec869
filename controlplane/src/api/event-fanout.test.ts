import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CpEvent } from '../generations/lifecycle-ports.ts';
import { openStore, type SqliteStore } from '../store/open-store.ts';
import { type ApiKit, startApiKit } from './api-test-kit.ts';
import { EventFanout, type Subscriber, sseFrame } from './event-fanout.ts';

const append = (store: SqliteStore, scope: string, i: number) =>
  store.events.append({ type: 'generation.created', scope, at: new Date(0).toISOString(), data: { seq: i, digest: 'd'.repeat(64) } });

describe('SSE fan-out', () => {
  let dir: string;
  let store: SqliteStore;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'spooky-fanout-'));
    store = openStore(join(dir, 'cp.db'));
  });
  after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const subscriber = (scope: string | null, frames: Buffer[], queued: () => number = () => 0): Subscriber & { dropped: boolean } => {
    const s = {
      cursor: store.events.window().latest,
      scope,
      dropped: false,
      accepts: (e: CpEvent) => e.scope !== 'hidden',
      seesScope: (s: string) => s !== 'hidden',
      write: (frame: Buffer) => {
        frames.push(frame);
        return queued();
      },
      drop: () => {
        s.dropped = true;
      },
    };
    return s;
  };

  it('serialises each event once, writes the same buffer to every subscriber, filters by scope and visibility', () => {
    const fanout = new EventFanout(store.events, { maxBufferedBytes: 1024 });
    const a: Buffer[] = [];
    const b: Buffer[] = [];
    const c: Buffer[] = [];
    const subs = [subscriber(null, a), subscriber(null, b), subscriber('eu', c)];
    for (const s of subs) fanout.add(s);
    append(store, 'us', 1);
    append(store, 'eu', 2);
    append(store, 'hidden', 3);
    fanout.deliver();
    assert.equal(a.length, 2);
    assert.ok(a[0] === b[0] && a[1] === b[1], 'one Buffer per event, shared');
    assert.equal(c.length, 1);
    assert.equal(c[0], a[1]);
    assert.match(String(a[1]), /^id: \d+\nevent: generation.created\ndata: \{.*"scope":"eu"/);
    fanout.deliver();
    assert.equal(a.length, 2, 'nothing twice');
    for (const s of subs) fanout.remove(s);
  });

  it('disconnects a subscriber whose socket stops draining, keeps the others', () => {
    const fanout = new EventFanout(store.events, { maxBufferedBytes: 1024 });
    let queued = 0;
    const slowFrames: Buffer[] = [];
    const slow = subscriber(null, slowFrames, () => {
      queued += slowFrames[slowFrames.length - 1]?.length ?? 0;
      return queued;
    });
    const fastFrames: Buffer[] = [];
    const fast = subscriber(null, fastFrames);
    fanout.add(slow);
    fanout.add(fast);
    for (let i = 0; i < 50; i++) append(store, 'us', i);
    fanout.deliver();
    assert.equal(slow.dropped, true);
    assert.ok(slowFrames.length < 50);
    assert.equal(fastFrames.length, 50);
    assert.equal(fanout.size, 1);
    fanout.remove(fast);
  });

  it('measures the cost of one event at 2 000 subscribers, before (per-subscriber query + serialise) and after', (t) => {
    const count = 2000;
    const rounds = 10;
    const sink = () => 0;
    // Before: what each stream did on every append — its own query and its own serialisation.
    const cursors = Array.from({ length: count }, () => store.events.window().latest);
    let beforeMs = 0;
    for (let r = 0; r < rounds; r++) {
      append(store, 'us', r);
      const started = performance.now();
      for (let i = 0; i < count; i++) {
        const batch = store.events.after(cursors[i] ?? 0, null, 500);
        const text = batch.map(sseFrame).join('');
        if (text !== '') sink();
        cursors[i] = batch[batch.length - 1]?.id ?? cursors[i] ?? 0;
      }
      beforeMs += performance.now() - started;
    }
    const fanout = new EventFanout(store.events, { maxBufferedBytes: 1024 * 1024 });
    const subs = Array.from({ length: count }, () => ({ ...subscriber(null, []), write: sink }));
    for (const s of subs) fanout.add(s);
    let afterMs = 0;
    for (let r = 0; r < rounds; r++) {
      append(store, 'us', r);
      const started = performance.now();
      fanout.deliver();
      afterMs += performance.now() - started;
    }
    for (const s of subs) fanout.remove(s);
    t.diagnostic(`sse fan-out at ${count} subscribers: ${(beforeMs / rounds).toFixed(2)} ms/event before, ${(afterMs / rounds).toFixed(2)} ms/event after`);
    assert.ok(subs.every((s) => s.cursor === subs[0]?.cursor));
  });
});

describe('SSE subscriber cap', () => {
  let kit: ApiKit;
  let base: string;
  before(async () => {
    kit = startApiKit({ sseMaxSubscribers: 2, sseHeartbeatMs: 60_000 });
    base = await kit.app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(() => kit.close());

  /** Opens a stream; resolves with the status once the head arrived (the stream stays open). */
  const open = () =>
    new Promise<{ status: number; headers: Record<string, unknown>; close: () => void; body: () => Promise<string> }>((resolve, reject) => {
      const req = httpRequest(`${base}/v1/events`, { headers: { authorization: 'Bearer reader-token' }, timeout: 5000 }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        const ended = new Promise<string>((done) => {
          res.on('data', (chunk: string) => {
            text += chunk;
          });
          res.on('end', () => done(text));
          res.on('close', () => done(text));
        });
        resolve({ status: res.statusCode ?? 0, headers: res.headers, close: () => req.destroy(), body: () => ended });
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end();
    });

  it('answers 503 + Retry-After over the cap and accepts again once a stream closed', async () => {
    const first = await open();
    const second = await open();
    assert.deepEqual([first.status, second.status], [200, 200]);
    const third = await open();
    assert.equal(third.status, 503);
    assert.equal(third.headers['retry-after'], '5');
    assert.match(String(third.headers['content-type']), /^application\/problem\+json/);
    assert.equal(JSON.parse(await third.body()).code, 'too_many_subscribers');
    first.close();
    let again = await open();
    for (let i = 0; i < 50 && again.status === 503; i++) {
      // The server sees the close asynchronously: retry (bounded) until it did.
      await new Promise((r) => setImmediate(r));
      again = await open();
    }
    assert.equal(again.status, 200);
    second.close();
    again.close();
  });
});
