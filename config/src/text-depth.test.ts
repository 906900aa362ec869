import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { jsonTooDeep, yamlTooDeep } from './text-depth.ts';

/** Containers on the deepest path of a JSON value. */
function depthOf(v: unknown): number {
  if (v === null || typeof v !== 'object') return 0;
  const children = Array.isArray(v) ? v : Object.values(v);
  return 1 + children.reduce<number>((m, c) => Math.max(m, depthOf(c)), 0);
}

/** The estimate, found by asking for each limit. */
function yamlDepth(text: string): number {
  let d = 0;
  while (yamlTooDeep(text, d) !== null) d++;
  return d;
}

const scalar = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom('a: b', '- x', '[x', '{y', "it's", '"q', '#c', ' # c', '|', '> x', '---', 'a\nb', '*a', '&a', '!t', ':', '? k'),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
);
const value = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('arr'), tie('obj')),
  arr: fc.array(tie('node'), { maxLength: 4 }),
  obj: fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('- k', 'a: b', '#', '[', '"k')), tie('node'), { maxKeys: 4 }),
})).node;

const styles = [
  {},
  { collectionStyle: 'flow' as const },
  { indentSeq: false },
  { indent: 4, defaultStringType: 'QUOTE_SINGLE' as const },
  { defaultStringType: 'BLOCK_LITERAL' as const },
  { defaultStringType: 'QUOTE_DOUBLE' as const, collectionStyle: 'flow' as const },
];

test('YAML depth estimate is never below the real depth and at most one above it', () => {
  fc.assert(
    fc.property(value, fc.constantFrom(...styles), (v, style) => {
      const text = stringify(v, style);
      const real = depthOf(v);
      const estimate = yamlDepth(text);
      assert.ok(estimate >= real, `estimate ${estimate} < real ${real} for:\n${text}`);
      assert.ok(estimate <= real + 1, `estimate ${estimate} > real ${real} + 1 for:\n${text}`);
    }),
    { numRuns: 500 },
  );
});

test('JSON depth is exact, strings and escapes skipped', () => {
  fc.assert(
    fc.property(value, (v) => {
      const text = JSON.stringify(v);
      const real = depthOf(v);
      assert.equal(jsonTooDeep(text, real), null);
      if (real > 0) assert.ok(jsonTooDeep(text, real - 1) !== null);
    }),
    { numRuns: 500 },
  );
  assert.deepEqual(jsonTooDeep('{"a": "[[[[\\"[[[", "b": [[1]]}', 2), { line: 1, column: 26 });
});

test('the examples are far below the limit', () => {
  const dir = join(import.meta.dirname, '..', 'examples');
  for (const file of readdirSync(dir)) {
    const text = readFileSync(join(dir, file), 'utf8');
    assert.ok(yamlDepth(text) <= 8, file);
  }
});

test('YAML shapes: flow in block, compact sequences, block scalars, comments, quotes, markers', () => {
  const cases: [string, number][] = [
    ['a: [[1], {b: [2]}]', 4],
    ['- - - x', 3],
    ['- a: 1\n  b: [x]\n- c', 3],
    ['a:\n- 1\n- [2]\nb: {c: d}', 3],
    ['a: |\n  [[[[[[\n  - - - -\nb: 1', 1],
    ['a: >-\n    {{{{\n\nb: 1', 1],
    ["a: 'it''s [[[['\nb: \"[[[\\\"[[\"", 1],
    ['a: x [[[[ # [[[[\nb: 1', 1],
    ["a: don't [[[[", 1],
    ['a: "multi\n  [[[[ line"\nb: [1]', 2],
    ['--- [[1]]\n--- a: b', 2],
    ['%YAML 1.2\n---\na: &x !!map {b: *x}', 2],
    ['{"a":"b", "c":[1]}', 2],
    ['[a:\'x, [[[[]]]]]', 5],
  ];
  for (const [text, depth] of cases) assert.equal(yamlDepth(text), depth, text);
});
