import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EXIT, exitCodeForStatus } from './exit-codes.ts';

describe('exit codes', () => {
  it('are the documented numbers', () => {
    assert.deepEqual(EXIT, { ok: 0, error: 1, changes: 2, invalid: 3, conflict: 4, rejected: 5, timeout: 6, forbidden: 7 });
  });

  it('map HTTP answers', () => {
    const cases: [number, boolean, number][] = [
      [401, false, 7],
      [403, false, 7],
      [409, false, 4],
      [412, false, 4],
      [428, false, 4],
      [422, true, 3],
      [413, false, 3],
      [400, true, 3],
      [400, false, 1],
      [404, false, 1],
      [500, false, 1],
      [503, false, 1],
    ];
    for (const [status, issues, code] of cases) assert.equal(exitCodeForStatus(status, issues), code, `${status} issues=${issues}`);
    assert.equal(exitCodeForStatus(422, false), 1);
    assert.equal(exitCodeForStatus(410, false), 1);
  });

  it('problem codes with their own meaning win over the status', () => {
    assert.equal(exitCodeForStatus(422, false, 'idempotency_key_reused'), 4);
    assert.equal(exitCodeForStatus(409, false, 'idempotency_in_progress'), 4);
    assert.equal(exitCodeForStatus(422, false, 'schema_unsupported'), 3);
    assert.equal(exitCodeForStatus(400, false, 'config_unparseable'), 3);
    assert.equal(exitCodeForStatus(409, false, 'generation_failed'), 4);
    assert.equal(exitCodeForStatus(403, false, 'forbidden'), 7);
  });
});
