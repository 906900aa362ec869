import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type GenerationHealth, LATENCY_BUCKET_BOUNDS_MS } from '@spooky/proto';
import { Registry } from 'prom-client';
import { checkHealthWindows, healthDropCounter } from './health-windows.ts';

const gen = { scope: 's', seq: 3, digest: `sha256:${'3'.repeat(64)}` };
const counts = (): number[] => LATENCY_BUCKET_BOUNDS_MS.map(() => 0).concat([0]).map((_, i) => (i === 4 ? 10 : 0));
const window = (over: Partial<GenerationHealth> = {}): GenerationHealth => ({
  generation: gen,
  fromUnixMs: 1_000,
  toUnixMs: 2_000,
  requests: 10,
  local5xx: 1,
  upstream5xx: 2,
  latencyBucketCounts: counts(),
  ...over,
});

describe('checkHealthWindows', () => {
  it('keeps a valid window, converted to GenerationHealthFacts', () => {
    const checked = checkHealthWindows('s', [window()]);
    assert.deepEqual(checked.dropped, []);
    assert.deepEqual(checked.windows, [
      { generation: gen, fromMs: 1_000, toMs: 2_000, requests: 10, local5xx: 1, upstream5xx: 2, latencyCounts: counts() },
    ]);
  });

  const malformed: [string, Partial<GenerationHealth>, string][] = [
    ['no generation', { generation: undefined }, 'generation'],
    ['generation without digest', { generation: { ...gen, digest: '' } }, 'generation'],
    ['another scope', { generation: { ...gen, scope: 'other' } }, 'scope'],
    ['from = to', { toUnixMs: 1_000 }, 'window'],
    ['from > to', { fromUnixMs: 3_000 }, 'window'],
    ['from 0', { fromUnixMs: 0 }, 'window'],
    ['fractional requests', { requests: 1.5 }, 'counts'],
    ['negative 5xx', { local5xx: -1 }, 'counts'],
    ['5xx above requests', { local5xx: 6, upstream5xx: 5 }, 'errors'],
    ['one bucket too few', { latencyBucketCounts: counts().slice(1) }, 'latency_layout'],
    ['one bucket too many', { latencyBucketCounts: [...counts(), 0] }, 'latency_layout'],
    ['a negative bucket count', { latencyBucketCounts: counts().map((c, i) => (i === 0 ? -1 : c)) }, 'counts'],
  ];
  for (const [name, over, reason] of malformed) {
    it(`drops ${name} (${reason}) and keeps the valid ones beside it`, () => {
      const checked = checkHealthWindows('s', [window(), window(over), window({ fromUnixMs: 2_000, toUnixMs: 3_000 })]);
      assert.deepEqual(checked.dropped, [reason]);
      assert.deepEqual(
        checked.windows.map((w) => w.fromMs),
        [1_000, 2_000],
      );
    });
  }
});

describe('healthDropCounter', () => {
  it('exports every reason from 0 and counts drops; a second server on the registry shares it', async () => {
    const registry = new Registry();
    const count = healthDropCounter(registry);
    healthDropCounter(registry)('errors');
    count('errors');
    count('latency_layout');
    const text = await registry.metrics();
    assert.match(text, /spooky_cp_health_windows_dropped_total\{reason="errors"\} 2/);
    assert.match(text, /spooky_cp_health_windows_dropped_total\{reason="latency_layout"\} 1/);
    assert.match(text, /spooky_cp_health_windows_dropped_total\{reason="scope"\} 0/);
  });
});
