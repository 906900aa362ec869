import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NodeParking, parkAfterNack, retryDelayMs } from './parking.ts';

describe('parking backoff', () => {
  it('doubles from the base and caps at 60 s', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8, 20, 1000].map((n) => retryDelayMs(n));
    assert.deepEqual(delays, [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000, 60_000]);
  });

  it('counts failures and spaces retries further each time', () => {
    let entry = parkAfterNack(undefined, 'd', true, 0);
    assert.deepEqual(entry, { digest: 'd', retryable: true, failures: 1, retryAtMs: 1_000 });
    entry = parkAfterNack(entry, 'd', true, 1_000);
    assert.deepEqual(entry, { digest: 'd', retryable: true, failures: 2, retryAtMs: 3_000 });
    entry = parkAfterNack(entry, 'd', true, 3_000);
    assert.equal(entry.retryAtMs, 7_000);
  });

  it('a non-retryable nack parks for good, even after retryable ones', () => {
    const retryable = parkAfterNack(undefined, 'd', true, 0);
    const final = parkAfterNack(retryable, 'd', false, 5);
    assert.equal(final.retryable, false);
    assert.equal(final.retryAtMs, Number.POSITIVE_INFINITY);
    assert.equal(parkAfterNack(final, 'd', true, 10).retryable, false);
  });

  it('release forgets a digest that was applied after all', () => {
    const parking = new NodeParking();
    parking.park('n', 'b', 'd', true, 0);
    parking.release('n', 'b', 'd');
    assert.equal(parking.get('n', 'b', 'd'), undefined);
  });

  it('parking is per node: another node is not affected', () => {
    const parking = new NodeParking();
    parking.park('n1', 'b', 'd', false, 0);
    assert.equal(parking.get('n2', 'b', 'd'), undefined);
  });
});
