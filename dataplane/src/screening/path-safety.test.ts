import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pathProblem } from './path-safety.ts';

describe('path safety', () => {
  const ok = [
    '/',
    '/a',
    '/a/b/',
    '/a.b/c..d/...',
    '/%7Euser',
    '/caf%C3%A9',
    '/a?x=../..//',
    '/50%25',
    '/a-b_c~d',
    '/a;x=1/b',
    '/a;jsessionid=1',
    '/.a/..b/a./b..',
    '/%E2%82%AC/caf%C3%A9/50%25',
  ];
  const bad = [
    'a',
    '*',
    'http://x/',
    '//a',
    '/a//b',
    '/./a',
    '/a/..',
    '/a/../b',
    '/%2e%2E/a',
    '/a/%2e',
    '/a%2fb',
    '/a%5Cb',
    '/a\\b',
    '/%zz',
    '/a%2',
    '/%252e',
    '/%C3',
    '/%00',
    '/a b',
    '/é',
    // issue 7: `;` path parameters hiding dot segments (servlet containers strip `;…`).
    '/a/..;/b',
    '/..;/admin',
    '/a/.;x/b',
    '/a/..;x=1',
    '/a/%2e%2e;/b',
    '/a/..%3b/b',
    '/a/;x/b',
    '/;/a',
    // double encoding spelled out digit by digit, overlong and surrogate UTF-8, C1 controls
    '/%25%32%65%25%32%65/x',
    '/a/%25%32%66b',
    '/%C0%AE%C0%AE/x',
    '/%E0%80%AE/x',
    '/%ED%A0%80',
    '/a%C2%85b',
    // Unicode-normalising origins: fullwidth dots, fullwidth solidus, small percent sign
    '/%EF%BC%8E%EF%BC%8E/x',
    '/a%EF%BC%8Fb',
    '/a%EF%BC%BCb',
    '/%EF%B9%AA2e/x',
    '/a/%EF%B9%94x/b',
  ];
  for (const p of ok) test(`accepts ${p}`, () => assert.equal(pathProblem(p), null));
  for (const p of bad) test(`refuses ${p}`, () => assert.notEqual(pathProblem(p), null));
});
