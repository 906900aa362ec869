import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { changeLines, changesOf, MAX_CHANGE_LINES } from './change-lines.ts';

describe('change lines', () => {
  it('reads {changes} or a bare array; null when there is no diff', () => {
    const change = { entity: 'backend', id: 'app/a', op: 'change', path: '/upstream/app/backends/0/weight', before: 100, after: 50 };
    assert.deepEqual(changesOf({ changes: [change] }), [change]);
    assert.deepEqual(changesOf([change]), [change]);
    assert.equal(changesOf(null), null);
    assert.equal(changesOf({}), null);
  });

  it('one line per change: + added, - removed, ~ changed; long lists are cut', () => {
    const lines = changeLines([
      { entity: 'upstream', id: 'api', op: 'add', path: '/upstream/api', after: { x: 1 } },
      { entity: 'upstream', id: 'old', op: 'remove', path: '/upstream/old', before: 'gone' },
      { entity: 'backend', id: 'app/a', op: 'change', path: '/upstream/app/backends/0/weight', before: 100, after: 50 },
    ]);
    assert.deepEqual(lines, [
      '  + upstream api /upstream/api: {"x":1}',
      '  - upstream old /upstream/old: "gone"',
      '  ~ backend app/a /upstream/app/backends/0/weight: 100 → 50',
    ]);
    const many = Array.from({ length: MAX_CHANGE_LINES + 3 }, (_, i) => ({ entity: 'e', id: String(i), op: 'add', path: '', after: i }));
    const cut = changeLines(many);
    assert.equal(cut.length, MAX_CHANGE_LINES + 1);
    assert.equal(cut.at(-1), '  … and 3 more (--json lists all)');
  });
});
