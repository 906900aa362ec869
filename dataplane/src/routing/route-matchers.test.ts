/** Matcher kinds (exact, prefix, present true/false, regex) on headers, query and cookies. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ConfigIssue, Matcher, Route } from '@spooky/config';
import type { HeaderList } from '../http/exchange.ts';
import { RequestAttributes } from './request-attributes.ts';
import { compileRouteMatchers } from './route-matchers.ts';

type Field = 'headers' | 'query' | 'cookies';

function holds(field: Field, matcher: Matcher, headers: HeaderList, target = '/'): boolean {
  const route: Route = { host: null, path_prefix: '/', method: null, headers: [], query: [], cookies: [], [field]: [matcher] };
  const issues: ConfigIssue[] = [];
  const m = compileRouteMatchers(route, '/r', issues);
  assert.deepEqual(issues, []);
  assert.ok(m);
  return m.holds(new RequestAttributes(headers, target));
}

const cases: Array<[desc: string, field: Field, matcher: Matcher, headers: HeaderList, target: string, expected: boolean]> = [
  // headers
  ['header exact', 'headers', { name: 'x-tenant', exact: 'blue' }, [['x-tenant', 'blue']], '/', true],
  ['header exact is case-sensitive in the value', 'headers', { name: 'x-tenant', exact: 'blue' }, [['x-tenant', 'Blue']], '/', false],
  ['header names are case-insensitive', 'headers', { name: 'x-tenant', exact: 'blue' }, [['X-Tenant', 'blue']], '/', true],
  ['header exact absent', 'headers', { name: 'x-tenant', exact: 'blue' }, [], '/', false],
  ['header any value of a repeated name', 'headers', { name: 'x-tenant', exact: 'blue' }, [['x-tenant', 'red'], ['x-tenant', 'blue']], '/', true],
  ['header prefix', 'headers', { name: 'user-agent', prefix: 'curl/' }, [['user-agent', 'curl/8.5']], '/', true],
  ['header prefix miss', 'headers', { name: 'user-agent', prefix: 'curl/' }, [['user-agent', 'Mozilla curl/8']], '/', false],
  ['header present true', 'headers', { name: 'x-debug', present: true }, [['x-debug', '']], '/', true],
  ['header present true, absent', 'headers', { name: 'x-debug', present: true }, [], '/', false],
  ['header present false, absent', 'headers', { name: 'x-debug', present: false }, [['other', '1']], '/', true],
  ['header present false, present', 'headers', { name: 'x-debug', present: false }, [['x-debug', '0']], '/', false],
  ['header regex whole value', 'headers', { name: 'x-v', regex: 'v[0-9]+' }, [['x-v', 'v12']], '/', true],
  ['header regex is anchored at both ends', 'headers', { name: 'x-v', regex: 'v[0-9]+' }, [['x-v', 'xv12x']], '/', false],
  ['header regex alternation anchored as a group', 'headers', { name: 'x-v', regex: 'a|b' }, [['x-v', 'ab']], '/', false],
  ['header regex absent', 'headers', { name: 'x-v', regex: '.*' }, [], '/', false],
  // query
  ['query exact', 'query', { name: 'v', exact: '2' }, [], '/p?v=2', true],
  ['query percent-decoded', 'query', { name: 'q', exact: 'a b/é' }, [], '/p?q=a%20b%2F%C3%A9', true],
  ['query plus is a space', 'query', { name: 'q', exact: 'a b' }, [], '/p?q=a+b', true],
  ['query repeated: any matches', 'query', { name: 'v', exact: '2' }, [], '/p?v=1&v=2', true],
  ['query names are case-sensitive', 'query', { name: 'v', exact: '2' }, [], '/p?V=2', false],
  ['query fragment ignored', 'query', { name: 'v', exact: '2' }, [], '/p?v=2#v=3', true],
  ['query present without value', 'query', { name: 'flag', present: true }, [], '/p?flag', true],
  ['query present false', 'query', { name: 'flag', present: false }, [], '/p', true],
  ['query prefix', 'query', { name: 'id', prefix: 'usr_' }, [], '/p?id=usr_42', true],
  ['query regex', 'query', { name: 'id', regex: '[0-9]{2,3}' }, [], '/p?id=1234', false],
  // cookies
  ['cookie exact', 'cookies', { name: 'session', exact: 'abc' }, [['cookie', 'a=1; session=abc']], '/', true],
  ['cookie from a second cookie header', 'cookies', { name: 'beta', exact: '1' }, [['cookie', 'a=1'], ['cookie', 'beta=1']], '/', true],
  ['cookie repeated: any matches', 'cookies', { name: 'v', exact: '2' }, [['cookie', 'v=1; v=2']], '/', true],
  ['cookie value kept as sent', 'cookies', { name: 'v', exact: 'a%20b' }, [['cookie', 'v=a%20b']], '/', true],
  ['cookie value with =', 'cookies', { name: 'tok', prefix: 'x=' }, [['cookie', 'tok=x=y']], '/', true],
  ['cookie names are case-sensitive', 'cookies', { name: 'Session', present: true }, [['cookie', 'session=1']], '/', false],
  ['cookie pair without = ignored', 'cookies', { name: 'lonely', present: true }, [['cookie', 'lonely; a=1']], '/', false],
  ['cookie present false', 'cookies', { name: 'opt-out', present: false }, [['cookie', 'a=1']], '/', true],
  ['cookie regex', 'cookies', { name: 'ab', regex: 'variant-(a|b)' }, [['cookie', 'ab=variant-b']], '/', true],
];

describe('route matchers', () => {
  for (const [desc, field, matcher, headers, target, expected] of cases) {
    test(desc, () => assert.equal(holds(field, matcher, headers, target), expected));
  }

  test('all matchers of a route must hold', () => {
    const route: Route = {
      host: null,
      path_prefix: '/',
      method: null,
      headers: [{ name: 'x-a', exact: '1' }],
      query: [{ name: 'q', present: true }],
      cookies: [{ name: 'c', exact: 'y' }],
    };
    const m = compileRouteMatchers(route, '/r', []);
    assert.ok(m);
    assert.equal(m.count, 3);
    assert.equal(m.holds(new RequestAttributes([['x-a', '1'], ['cookie', 'c=y']], '/?q')), true);
    assert.equal(m.holds(new RequestAttributes([['x-a', '1'], ['cookie', 'c=n']], '/?q')), false);
    assert.equal(m.holds(new RequestAttributes([['x-a', '1'], ['cookie', 'c=y']], '/')), false);
  });

  test('no matchers → null (unconstrained)', () => {
    assert.equal(compileRouteMatchers({ host: null, path_prefix: '/', method: null, headers: [], query: [], cookies: [] }, '/r', []), null);
  });

  test('an invalid regex is a compile issue, never a silent match', () => {
    const issues: ConfigIssue[] = [];
    const route: Route = { host: null, path_prefix: '/', method: null, headers: [{ name: 'x', regex: '(' }], query: [], cookies: [] };
    const m = compileRouteMatchers(route, '/upstream/a/route', issues);
    assert.deepEqual(issues.map((i) => `${i.pointer} ${i.code}`), ['/upstream/a/route/headers/0/regex route.matcher.regex_invalid']);
    assert.equal(m?.holds(new RequestAttributes([['x', '(']], '/')), false);
  });

  test('attributes are read lazily, in a bounded number of passes over the headers', () => {
    let passes = 0;
    const headers: HeaderList = new Proxy([['cookie', 'a=1']] as HeaderList, {
      get(target, prop, receiver) {
        if (prop === '0') passes++; // every pass over the list reads its first header
        return Reflect.get(target, prop, receiver);
      },
    });
    const attrs = new RequestAttributes(headers, '/');
    assert.equal(passes, 0);
    assert.deepEqual(attrs.cookie('a'), ['1']);
    assert.equal(attrs.cookie('b'), undefined);
    for (let i = 0; i < 50; i++) attrs.cookie(`n${i}`);
    for (let i = 0; i < 50; i++) attrs.header(`h${i}`);
    // a few single-name scans, then one pass each to index cookies and headers
    assert.ok(passes <= 8, `${passes} passes`);
    assert.deepEqual(attrs.cookie('a'), ['1']);
  });
});
