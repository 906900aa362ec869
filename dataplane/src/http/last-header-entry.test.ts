import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LastHeaderEntry } from './last-header-entry.ts';

describe('LastHeaderEntry', () => {
  it('returns the same tuple while the value repeats (equal content, another string object too)', () => {
    const memo = new LastHeaderEntry('x-forwarded-for');
    const first = memo.entry('127.0.0.1');
    assert.deepEqual(first, ['x-forwarded-for', '127.0.0.1']);
    assert.equal(memo.entry('127.0.0.1'), first);
    assert.equal(memo.entry(['127', '0', '0', '1'].join('.')), first);
  });

  it('makes and remembers a new tuple when the value changes', () => {
    const memo = new LastHeaderEntry('via');
    const a = memo.entry('3 spooky');
    const b = memo.entry('2 spooky');
    assert.notEqual(a, b);
    assert.deepEqual(b, ['via', '2 spooky']);
    assert.deepEqual(a, ['via', '3 spooky'], 'the earlier tuple is left as it was');
    assert.equal(memo.entry('2 spooky'), b);
  });
});
