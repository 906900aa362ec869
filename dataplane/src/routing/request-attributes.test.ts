/**
 * RequestAttributes answers a name by scanning the headers for the first few reads and from
 * a full index after that: both must give the same values for every name.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { HeaderList } from '../http/exchange.ts';
import { RequestAttributes } from './request-attributes.ts';

const NAMES = ['a', 'b', 'sid', 'x-a', 'X-A', 'cookie', ''];
const piece = fc.constantFrom('a', 'b', 'sid', '=', ';', ' ', '\t', '\u00a0', '\ufeff', '1', 'x', '==', ' ;');
const cookieValue = fc.array(piece, { maxLength: 12 }).map((parts) => parts.join(''));
const header = fc.oneof(
  fc.tuple(fc.constantFrom('cookie', 'Cookie', 'COOKIE', 'cookies'), cookieValue),
  fc.tuple(fc.constantFrom('x-a', 'X-A', 'x-b', 'accept'), fc.constantFrom('1', '', 'v w')),
);

/** Reads every name through a fresh instance after its scans are used up (index path). */
function indexed(headers: HeaderList): RequestAttributes {
  const attrs = new RequestAttributes(headers, '/');
  for (let i = 0; i < 20; i++) {
    attrs.header('zz-warm');
    attrs.cookie('zz-warm');
  }
  return attrs;
}

test('scanned and indexed attribute reads agree', () => {
  fc.assert(
    fc.property(fc.array(header, { maxLength: 6 }), fc.constantFrom(...NAMES), (list, name) => {
      const headers: HeaderList = list.map(([n, v]) => [n, v]);
      const scanned = new RequestAttributes(headers, '/');
      const full = indexed(headers);
      assert.deepEqual(scanned.cookie(name), full.cookie(name), `cookie ${JSON.stringify(name)} of ${JSON.stringify(headers)}`);
      assert.deepEqual(scanned.header(name.toLowerCase()), full.header(name.toLowerCase()), `header ${name}`);
    }),
    { numRuns: 2000 },
  );
});

test('cookie pairs: trimmed names and values, repeated names keep every value, pairs without = ignored', () => {
  const attrs = new RequestAttributes([['Cookie', ' a = 1 ; b; a=2;=3; c=x=y'], ['cookie', 'a=3']], '/');
  assert.deepEqual(attrs.cookie('a'), ['1', '2', '3']);
  assert.equal(attrs.cookie('b'), undefined);
  assert.deepEqual(attrs.cookie('c'), ['x=y']);
  assert.equal(attrs.cookie(''), undefined);
});
