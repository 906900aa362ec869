import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rollbackIdempotencyKey } from './active-commands.ts';

describe('rollbackIdempotencyKey', () => {
  it('is the same for the same scope, target, force and reason (a retried job replays)', () => {
    const key = rollbackIdempotencyKey('prod', 'previous', false, 'ci: run 7');
    assert.equal(key, rollbackIdempotencyKey('prod', 'previous', false, 'ci: run 7'));
    assert.match(key, /^rollback-[0-9a-f]{64}$/, 'a valid Idempotency-Key (visible ASCII, ≤ 255)');
  });

  it('differs when any of them differs (a deliberate new rollback is not swallowed)', () => {
    const base = rollbackIdempotencyKey('prod', 'previous', false, 'ci: run 7');
    const others = [
      rollbackIdempotencyKey('edge', 'previous', false, 'ci: run 7'),
      rollbackIdempotencyKey('prod', 'lkg', false, 'ci: run 7'),
      rollbackIdempotencyKey('prod', 3, false, 'ci: run 7'),
      rollbackIdempotencyKey('prod', 'previous', true, 'ci: run 7'),
      rollbackIdempotencyKey('prod', 'previous', false, 'ci: run 8'),
    ];
    assert.equal(new Set([base, ...others]).size, 6);
  });
});
