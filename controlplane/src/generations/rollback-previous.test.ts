import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ActivationStep, rollbackPrevious } from './rollback-previous.ts';

/** A history from a compact script: `a3` = activate seq 3, `r2` = rollback to seq 2; versions 1, 2, … */
function history(...moves: string[]): ActivationStep[] {
  return moves.map((m, i) => ({ seq: Number(m.slice(1)), version: i + 1, kind: m[0] === 'r' ? 'rollback' : 'activate' }));
}

describe('rollbackPrevious', () => {
  it('nothing active or a single activation: no previous', () => {
    assert.equal(rollbackPrevious([]), null);
    assert.equal(rollbackPrevious(history('a1')), null);
  });

  it('after plain activations: the generation active just before the current one', () => {
    assert.equal(rollbackPrevious(history('a1', 'a2', 'a3')), 2);
  });

  it('is not an undo toggle: a second rollback walks further back (3 → 2 → 1), never back to 3', () => {
    const once = history('a1', 'a2', 'a3', 'r2');
    assert.equal(rollbackPrevious(once), 1);
    assert.equal(rollbackPrevious(history('a1', 'a2', 'a3', 'r2', 'r1')), null, 'nothing left that was not rolled back from');
  });

  it('skips earlier periods of the current generation and every period left by a rollback', () => {
    // 2 was left by a rollback (to 1); 1 is current now, re-activated after 3 failed.
    assert.equal(rollbackPrevious(history('a1', 'a2', 'r1', 'a3', 'r1')), null);
    assert.equal(rollbackPrevious(history('a1', 'a2', 'r1', 'a3', 'a4', 'r3')), 1);
  });

  it("a generation's newest period decides: rolled back from lately → skipped; left normally lately → counts", () => {
    assert.equal(rollbackPrevious(history('a1', 'a2', 'r1', 'a2', 'a3')), 2);
    assert.equal(rollbackPrevious(history('a1', 'a2', 'a3', 'r2', 'r1')), null, '2 was left normally once, then rolled back from');
    assert.equal(rollbackPrevious(history('a1', 'a2', 'a3', 'a4', 'r2', 'a5')), 2, '2, reached by a rollback, was left by activating 5');
  });

  it('a rollback to an explicit seq also marks the generation it left', () => {
    assert.equal(rollbackPrevious(history('a1', 'a2', 'a3', 'a4', 'r1')), 3, '4 was rolled back from; 3 was left by activating 4');
  });

  it('reads the order from the versions, not from the array order', () => {
    const shuffled = history('a1', 'a2', 'a3', 'r2').reverse();
    assert.equal(rollbackPrevious(shuffled), 1);
  });
});
