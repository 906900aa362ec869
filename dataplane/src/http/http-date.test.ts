import assert from 'node:assert/strict';
import { test } from 'node:test';
import { httpDate } from './http-date.ts';

test('httpDate is an IMF-fixdate of the given second', () => {
  assert.equal(httpDate(Date.UTC(2026, 11, 3, 9, 0, 0, 250)), 'Thu, 03 Dec 2026 09:00:00 GMT');
  assert.match(httpDate(), /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
});

test('httpDate follows the clock across seconds (the cache is per second, not forever)', () => {
  const t = Date.UTC(2026, 0, 1, 0, 0, 59, 999);
  assert.equal(httpDate(t), 'Thu, 01 Jan 2026 00:00:59 GMT');
  assert.equal(httpDate(t + 1), 'Thu, 01 Jan 2026 00:01:00 GMT');
  assert.equal(httpDate(t), 'Thu, 01 Jan 2026 00:00:59 GMT');
});
