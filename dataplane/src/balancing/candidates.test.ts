import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { allBackends, CandidateFilter } from './candidates.ts';

/** A flag whose recheck answers `later` (e.g. a cooldown that has elapsed) and counts calls. */
function flag(available: boolean, later = available) {
  const f = {
    available,
    later,
    rechecks: 0,
    recheck(): boolean {
      f.rechecks++;
      if (f.later) f.available = true;
      return f.later;
    },
  };
  return f;
}

/** Sets a flag's state for good (available now and on recheck). */
function down(f: ReturnType<typeof flag> | undefined, available: boolean): void {
  if (f === undefined) throw new Error('no flag');
  f.available = available;
  f.later = available;
}

describe('CandidateFilter', () => {
  test('everyone available: the shared allBackends list, no recheck', () => {
    const flags = [flag(true), flag(true), flag(true)];
    const filter = new CandidateFilter(flags);
    assert.equal(filter.current(), allBackends(3));
    assert.equal(flags.reduce((n, f) => n + f.rechecks, 0), 0);
  });
  test('degraded: the available ones, the same array while membership holds', () => {
    const flags = [flag(true), flag(false), flag(true), flag(false)];
    const filter = new CandidateFilter(flags);
    const first = filter.current();
    assert.deepEqual(first, [0, 2]);
    assert.equal(filter.current(), first, 'reused');
    assert.equal(flags[1]?.rechecks, 2, 'unavailable backends are rechecked every time');
    down(flags[0], false);
    assert.deepEqual(filter.current(), [2]);
    down(flags[0], true);
    (flags[3] as { later: boolean }).later = true;
    assert.deepEqual(filter.current(), [0, 2, 3], 'recheck re-admits');
    (flags[1] as { later: boolean }).later = true;
    assert.equal(filter.current(), allBackends(4), 'all re-admitted by recheck');
  });
  test('shrinking and growing membership never reuses a wrong list', () => {
    const flags = [flag(false), flag(true), flag(true), flag(true)];
    const filter = new CandidateFilter(flags);
    assert.deepEqual(filter.current(), [1, 2, 3]);
    down(flags[3], false);
    assert.deepEqual(filter.current(), [1, 2]);
    down(flags[3], true);
    down(flags[2], false);
    assert.deepEqual(filter.current(), [1, 3]);
    for (const f of flags) down(f, false);
    assert.deepEqual(filter.current(), []);
    assert.deepEqual(new CandidateFilter([]).current(), []);
  });
});

describe('CandidateFilter with a summary', () => {
  test('nothing unavailable anywhere: allBackends without reading the flags', () => {
    const summary = { unavailableCount: 0 };
    const flags = [flag(true), flag(false, false)]; // a flag the summary says is stale
    const filter = new CandidateFilter(flags, summary);
    assert.equal(filter.current(), allBackends(2));
    assert.equal(flags[1]?.rechecks, 0);
    summary.unavailableCount = 1;
    assert.deepEqual(filter.current(), [0]);
  });
});
