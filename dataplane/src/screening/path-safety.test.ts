import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pathProblem } from './path-safety.ts';

describe('path safety', () => {
  const ok = ['/', '/a', '/a/b/', '/a.b/c..d/...', '/%7Euser', '/caf%C3%A9', '/a?x=../..//', '/50%25', '/a-b_c~d'];
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
  ];
  for (const p of ok) test(`accepts ${p}`, () => assert.equal(pathProblem(p), null));
  for (const p of bad) test(`refuses ${p}`, () => assert.notEqual(pathProblem(p), null));
});
