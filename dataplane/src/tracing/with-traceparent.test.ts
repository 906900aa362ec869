import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HeaderList } from '../http/exchange.ts';
import { withTraceparent } from './with-traceparent.ts';

test('replaces the traceparent in a copy, keeps tracestate and order; adds one when none', () => {
  const headers: HeaderList = [
    ['host', 'a'],
    ['traceparent', 'old'],
    ['tracestate', 'v=1'],
  ];
  assert.deepEqual(withTraceparent(headers, 'new'), [
    ['host', 'a'],
    ['traceparent', 'new'],
    ['tracestate', 'v=1'],
  ]);
  assert.equal(headers[1]?.[1], 'old', 'the input is not changed');
  assert.deepEqual(withTraceparent([['host', 'a']], 'new'), [
    ['host', 'a'],
    ['traceparent', 'new'],
  ]);
  assert.deepEqual(withTraceparent([['traceparent', 'x'], ['traceparent', 'y']], 'new'), [['traceparent', 'new']]);
});
