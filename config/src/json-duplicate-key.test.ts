import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonDuplicateKey } from './json-duplicate-key.ts';
import { parseConfigText } from './parse-config.ts';

test('jsonDuplicateKey: the second occurrence, with its pointer; escapes decoded; values and nested objects are not keys', () => {
  const cases: Array<[string, string | null]> = [
    ['{"a":1,"b":2}', null],
    ['{"a":1,"a":2}', '/a'],
    ['{"a":{"x":1},"b":{"x":2}}', null],
    ['{"a":[{"x":1},{"y":2,"y":3}]}', '/a/1/y'],
    ['{"a":"a","b":"a"}', null],
    ['{"k\\u0065y":1,"key":2}', '/key'],
    ['{"q\\"":1,"q\\\\":2,"q\\"":3}', '/q"'],
    ['{"a/b":1,"a~b":2,"a/b":3}', '/a~1b'],
    ['{"s":"}{\\"","t":[1,"]",{"u":1}],"u":1}', null],
    [' [ {"a":1} , {"a":1,"b":[],"a":0} ] ', '/1/a'],
  ];
  for (const [text, pointer] of cases) {
    JSON.parse(text); // valid JSON only
    assert.equal(jsonDuplicateKey(text)?.pointer ?? null, pointer, text);
  }
});

test('parseConfigText refuses a JSON config with a repeated key, naming where', () => {
  const r = parseConfigText('{"version":1,"log":{"level":"info","level":"debug"}}');
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.deepEqual(r.issues.map((i) => [i.pointer, i.code]), [['/log/level', 'config.duplicate_key']]);
  assert.match(r.issues[0]?.message ?? '', /appears twice/);
});
