import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RECONNECT_CAP_MS, reconnectDelayMs } from './reconnect-backoff.ts';

describe('reconnectDelayMs', () => {
  it('grows from 250 ms, stays within [d/2, d] and caps at 10 s', () => {
    assert.equal(reconnectDelayMs(0, 0.999999), 250);
    assert.equal(reconnectDelayMs(0, 0), 125);
    assert.equal(reconnectDelayMs(1, 1 - 1e-9), 500);
    assert.equal(reconnectDelayMs(3, 0), 1_000);
    for (const attempt of [6, 7, 10, 100, 10_000]) {
      const d = reconnectDelayMs(attempt, 0.5);
      assert.ok(d >= RECONNECT_CAP_MS / 2 && d <= RECONNECT_CAP_MS, `${attempt}: ${d}`);
    }
  });

  it("uses a GoAway's reconnect_after_ms, jittered upwards, as the first delay only", () => {
    assert.equal(reconnectDelayMs(0, 0, 1_100), 1_100);
    assert.equal(reconnectDelayMs(0, 0.5, 1_000), 1_250);
    assert.equal(reconnectDelayMs(0, 1 - 1e-9, 1_000), 1_500);
    const spread = new Set(Array.from({ length: 20 }, (_, i) => reconnectDelayMs(0, i / 20, 1_000)));
    assert.ok(spread.size > 10, 'different nodes get different delays');
    assert.equal(reconnectDelayMs(0, 0.5, 60_000), RECONNECT_CAP_MS);
    assert.equal(reconnectDelayMs(2, 0, 1_100), 500);
    assert.equal(reconnectDelayMs(0, 0, 0), 125);
  });
});
