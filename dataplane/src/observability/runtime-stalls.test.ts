import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { delayQuantiles, watchRuntimeStalls } from './runtime-stalls.ts';

function value(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  assert.ok(line, `no ${series} in\n${text}`);
  return Number(line.slice(series.length + 1));
}

/** Blocks the event loop for `ms` (the thing the delay histogram must see). */
function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy
  }
}

describe('runtime stall metrics', () => {
  it('report an event-loop block of the last interval, then reset at the scrape', async () => {
    const registry = new Registry();
    const stop = watchRuntimeStalls(registry);
    try {
      // Let the sampling timer run once, block, and let it observe the late tick.
      await new Promise((resolve) => setTimeout(resolve, 30));
      block(120);
      await new Promise((resolve) => setTimeout(resolve, 30));
      const first = await registry.metrics();
      const max = value(first, 'spooky_event_loop_delay_seconds{quantile="1"}');
      assert.ok(max >= 0.1 && max < 5, `max ${max}`);
      assert.ok(value(first, 'spooky_event_loop_delay_seconds{quantile="0.5"}') <= max);
      // The next interval has no block: its maximum is below the blocked one's.
      await new Promise((resolve) => setTimeout(resolve, 60));
      const second = await registry.metrics();
      assert.ok(value(second, 'spooky_event_loop_delay_seconds{quantile="1"}') < max);
    } finally {
      stop();
    }
  });

  it('count GC pause time by kind (every kind present from the start)', async () => {
    const registry = new Registry();
    const stop = watchRuntimeStalls(registry);
    try {
      const before = await registry.metrics();
      for (const kind of ['minor', 'major', 'incremental', 'weakcb']) assert.equal(value(before, `spooky_gc_pause_seconds_total{kind="${kind}"}`), 0);
      // Young-generation garbage: a minor GC happens within a few MB of allocation.
      let keep = 0;
      for (let i = 0; i < 200_000; i++) keep += { i, s: `x${i}` }.s.length;
      assert.ok(keep > 0);
      // The observer is called asynchronously after the GC: bounded wait for it.
      let minor = 0;
      for (let i = 0; i < 50 && minor === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        minor = value(await registry.metrics(), 'spooky_gc_pause_seconds_total{kind="minor"}');
      }
      assert.ok(minor > 0 && minor < 5, `minor ${minor}`);
    } finally {
      stop();
    }
  });

  it('quantiles are 0 for an empty interval, seconds otherwise', () => {
    assert.deepEqual(delayQuantiles({ count: 0, percentile: () => Number.NaN, max: 0 }), { '0.5': 0, '0.99': 0, '1': 0 });
    const q = delayQuantiles({ count: 3, percentile: (p: number) => (p === 50 ? 11e6 : 40e6), max: 90e6 });
    assert.deepEqual(q, { '0.5': 0.011, '0.99': 0.04, '1': 0.09 });
  });
});
