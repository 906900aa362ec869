import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkRegexCost } from './regex-cost.ts';

test('ordinary patterns pass the cost bound', () => {
  for (const p of ['^v[0-9]+$', 'abc', '[a-z]{1,20}', '(foo|bar)-[0-9]*', 'a(bc)?d', '(ab){2,5}', '\\d+\\.\\d+', '[(+*)]+', 'x(?:y|z)+']) {
    assert.deepEqual(checkRegexCost(p), { ok: true }, p);
  }
});

test('exponential or unbounded-cost patterns are refused with a reason', () => {
  const cases: Array<[string, string]> = [
    ['(a+)+$', 'route.matcher.regex_cost'],
    ['(a*)*', 'route.matcher.regex_cost'],
    ['(a|aa)+(b+)+', 'route.matcher.regex_cost'],
    ['((ab)*c)+', 'route.matcher.regex_cost'],
    ['(x{2,})*', 'route.matcher.regex_cost'],
    ['(a)\\1', 'route.matcher.regex_cost'],
    ['foo(?=bar)', 'route.matcher.regex_cost'],
    ['a{1,5000}', 'route.matcher.regex_cost'],
    ['x'.repeat(300), 'route.matcher.regex_cost'],
    ['(unclosed', 'route.matcher.regex_invalid'],
    ['[z-a]', 'route.matcher.regex_invalid'],
  ];
  for (const [p, code] of cases) {
    const v = checkRegexCost(p);
    assert.equal(v.ok, false, p);
    if (!v.ok) assert.equal(v.code, code, p);
  }
});
