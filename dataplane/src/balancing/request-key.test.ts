import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fnv1a64Hex } from './fnv1a64.ts';
import { compileKeyExtractor } from './request-key.ts';
import { type RequestOptions, requestOf } from './testing/balancer-fixtures.ts';

const base: RequestOptions = {
  method: 'POST',
  path: '/cart/42?user=ann+lee&x=1&empty=&enc=%C3%A9',
  authority: 'shop.example:443',
  remoteAddress: '203.0.113.9',
  remotePort: 51000,
  connectionId: 'ab12.7',
  headers: [
    ['x-user', 'u-1'],
    ['x-user', 'u-2'],
    ['authorization', 'Bearer s3cr3t-token'],
    ['cookie', 'theme=dark; sid=abc123'],
    ['cookie', 'sid=later'],
    ['host', 'host-header.example'],
  ],
};

// [key spec, request overrides, expected key]
const TABLE: Array<[string | null, RequestOptions, string]> = [
  ['path', {}, '/cart/42?user=ann+lee&x=1&empty=&enc=%C3%A9'],
  ['authority', {}, 'shop.example:443'],
  ['authority', { authority: null }, 'host-header.example'],
  ['method', {}, 'POST'],
  ['peer_ip', {}, '203.0.113.9'],
  ['bearer_token', {}, fnv1a64Hex('s3cr3t-token')],
  ['sticky-cid', {}, 'ab12.7'],
  ['sticky-cid', { connectionId: null }, '203.0.113.9:51000'],
  ['header:x-user', {}, 'u-1'],
  ['header:X-User', {}, 'u-1'],
  ['cookie:sid', {}, 'abc123'],
  ['cookie:theme', {}, 'dark'],
  ['query:user', {}, 'ann lee'],
  ['query:enc', {}, 'é'],
  // absent or empty sources fall back: authority → path with query → method
  ['query:empty', {}, 'shop.example:443'],
  ['query:nope', {}, 'shop.example:443'],
  ['header:x-none', {}, 'shop.example:443'],
  ['cookie:none', {}, 'shop.example:443'],
  ['bearer_token', { headers: [['authorization', 'Basic Zm9v']] }, 'shop.example:443'],
  ['peer_ip', { remoteAddress: null }, 'shop.example:443'],
  ['sticky-cid', { connectionId: null, remoteAddress: null }, 'shop.example:443'],
  ['header:x-user', { authority: null, headers: [] }, '/cart/42?user=ann+lee&x=1&empty=&enc=%C3%A9'],
  ['header:x-user', { authority: null, headers: [], path: '' }, 'POST'],
  [null, {}, 'shop.example:443'],
  ['query:bad', { path: '/?bad=%E0%A4%A' }, '%E0%A4%A'],
  ['query:a b', { path: '/?a+b=1#frag' }, '1'],
];

describe('request key extraction', () => {
  for (const [spec, overrides, expected] of TABLE) {
    test(`${spec ?? '(none)'} ${JSON.stringify(overrides)} → ${expected}`, () => {
      assert.equal(compileKeyExtractor(spec)(requestOf({ ...base, ...overrides })), expected);
    });
  }
  test('the bearer token itself never appears in the key', () => {
    const key = compileKeyExtractor('bearer_token')(requestOf(base));
    assert.ok(!key.includes('s3cr3t'));
  });
  test('no request → empty key', () => {
    assert.equal(compileKeyExtractor('path')(null), '');
  });
});
