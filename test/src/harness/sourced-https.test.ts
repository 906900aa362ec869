/** Client addresses for the canary split: distinct, all in 127/8, bounded. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clientAddress } from './sourced-https.ts';

test('clientAddress: 62 500 distinct loopback addresses, none of them 127.0.0.x, out of range refused', () => {
  const all = Array.from({ length: 62_500 }, (_, i) => clientAddress(i));
  assert.equal(new Set(all).size, 62_500);
  assert.equal(all[0], '127.1.0.2');
  assert.equal(all[249], '127.1.0.251');
  assert.equal(all[250], '127.1.1.2');
  for (const a of all) assert.match(a, /^127\.1\.\d{1,3}\.\d{1,3}$/);
  assert.throws(() => clientAddress(62_500), RangeError);
  assert.throws(() => clientAddress(-1), RangeError);
});
