import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { LATENCY_BUCKET_BOUNDS_MS } from '@spooky/proto';
import type { GenerationHealthFacts } from '../distribution/ports.ts';
import { openStore } from './open-store.ts';
import { SqliteHealthWindows } from './sqlite-health-windows.ts';

const dir = mkdtempSync(join(tmpdir(), 'spooky-health-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const T = Date.parse('2026-01-01T00:00:00Z');
const counts = (): number[] => LATENCY_BUCKET_BOUNDS_MS.map(() => 0).concat([0]);

function w(seq: number, fromMs: number, over: Partial<GenerationHealthFacts> = {}): GenerationHealthFacts {
  const latencyCounts = counts();
  latencyCounts[3] = 10;
  return { generation: { scope: 's', seq, digest: `d${seq}` }, fromMs, toMs: fromMs + 1000, requests: 10, local5xx: 1, upstream5xx: 2, latencyCounts, ...over };
}

describe('SqliteHealthWindows (real SQLite file)', () => {
  it('stores windows once, reads them back as gate windows, drops malformed ones, and survives a reopen', () => {
    const path = join(dir, 'a.db');
    const store = openStore(path);
    store.healthWindows.windows('n1', 's', [w(1, T), w(2, T), w(1, T), w(1, T + 1000, { requests: -1 }), w(1, T + 2000, { latencyCounts: [1] })], new Date(T + 2000));
    assert.equal(store.healthWindows.count('n1'), 2);
    store.close();
    const again = openStore(path);
    const read = again.healthWindows.read('n1', 's', T);
    assert.deepEqual(
      read.map((x) => [x.seq, x.fromMs, x.toMs, x.requests, x.local5xx, x.upstream5xx]),
      [
        [1, T, T + 1000, 10, 1, 2],
        [2, T, T + 1000, 10, 1, 2],
      ],
    );
    assert.deepEqual(read[0]?.latency.boundsMs, LATENCY_BUCKET_BOUNDS_MS);
    assert.equal(read[0]?.latency.counts[3], 10);
    assert.deepEqual(again.healthWindows.read('n1', 'other-scope', T), []);
    assert.deepEqual(again.healthWindows.read('n1', 's', T + 5000), [], 'windows that ended before sinceMs are left out');
    again.close();
  });

  it('prunes by age and by a per-node cap on insert, per node', () => {
    const store = openStore(join(dir, 'b.db'));
    const sink = new SqliteHealthWindows(store.db, { maxAgeMs: 10_000, perNodeCap: 3 });
    sink.windows('old', 's', [w(1, T)], new Date(T + 1000));
    sink.windows('n1', 's', [0, 1, 2, 3, 4].map((i) => w(1, T + i * 1000)), new Date(T + 5000));
    assert.deepEqual(
      sink.read('n1', 's', 0).map((x) => x.fromMs),
      [T + 2000, T + 3000, T + 4000],
      'the newest three are kept',
    );
    sink.windows('n1', 's', [w(1, T + 20_000)], new Date(T + 21_000));
    assert.deepEqual(
      sink.read('n1', 's', 0).map((x) => x.fromMs),
      [T + 20_000],
      'windows that ended more than maxAgeMs ago are gone',
    );
    assert.equal(sink.count('old'), 1, 'another node is pruned on its own inserts only');
    store.close();
  });
});
