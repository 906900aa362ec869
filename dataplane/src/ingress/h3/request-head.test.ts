import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IncomingHeaders } from '@currentspace/http3';
import { requestHeadFromHeaders, requestHeadFromHttp1 } from './request-head.ts';

const base = { ':method': 'GET', ':scheme': 'https', ':path': '/a?b=1', ':authority': 'example.com' };

describe('requestHeadFromHeaders', () => {
  it('splits pseudo-headers from regular headers, lowercasing names and keeping repeats', () => {
    const r = requestHeadFromHeaders({ ...base, Accept: 'text/html', cookie: ['a=1', 'b=2'] });
    assert.ok(r.ok);
    assert.deepEqual(r.head, {
      method: 'GET',
      scheme: 'https',
      authority: 'example.com',
      path: '/a?b=1',
      headers: [
        ['accept', 'text/html'],
        ['cookie', 'a=1'],
        ['cookie', 'b=2'],
      ],
    });
  });

  it('keeps array-index header names (listed first by Object.keys) without an order error', () => {
    const r = requestHeadFromHeaders({ ...base, '42': 'x' });
    assert.ok(r.ok);
    assert.deepEqual(r.head.headers, [['42', 'x']]);
  });

  it('allows a missing :authority (Host then decides)', () => {
    const { ':authority': _, ...rest } = base;
    const r = requestHeadFromHeaders({ ...rest, host: 'h' });
    assert.ok(r.ok);
    assert.equal(r.head.authority, null);
  });

  const cases: Array<[string, IncomingHeaders, string]> = [
    ['duplicate :method', { ...base, ':method': ['GET', 'POST'] }, 'pseudo_header_duplicate'],
    ['missing :path', { ':method': 'GET', ':scheme': 'https' }, 'pseudo_header_missing'],
    ['missing :scheme', { ':method': 'GET', ':path': '/' }, 'pseudo_header_missing'],
    ['empty :method', { ...base, ':method': '' }, 'pseudo_header_missing'],
    ['unknown pseudo-header', { ...base, ':protocol': 'websocket' }, 'pseudo_header_unknown'],
    ['path not starting with /', { ...base, ':path': 'a' }, 'path_invalid'],
    ['a pseudo-header after a regular one', { ':method': 'GET', ':scheme': 'https', accept: '*/*', ':path': '/' }, 'pseudo_header_after_regular'],
    ['a pseudo-header named twice in different case', { ...base, ':PATH': '/b' }, 'pseudo_header_duplicate'],
    ['an empty header name', { ...base, '': 'x' }, 'header_name_invalid'],
    ['a header name with a space', { ...base, 'x y': 'x' }, 'header_name_invalid'],
    ['a header name with a colon inside', { ...base, 'x:y': 'x' }, 'header_name_invalid'],
    ['a value with CR LF (header splitting)', { ...base, 'x-a': 'v\r\nx-b: injected' }, 'header_value_invalid'],
    ['a value with NUL', { ...base, 'x-a': ['ok', 'v\u0000'] }, 'header_value_invalid'],
    ['a pseudo value with LF', { ...base, ':authority': 'a.example\nx' }, 'header_value_invalid'],
    ['a scheme that is no URI scheme', { ...base, ':scheme': 'ht tp' }, 'scheme_invalid'],
  ];
  for (const [name, headers, reason] of cases) {
    it(`rejects ${name}`, () => {
      const r = requestHeadFromHeaders(headers);
      assert.equal(r.ok, false);
      if (!r.ok) assert.equal(r.reason, reason);
    });
  }
});

describe('requestHeadFromHttp1', () => {
  it('builds an https head with no authority from raw headers', () => {
    const r = requestHeadFromHttp1('POST', '/x', ['Host', 'h:1', 'X-A', '1', 'x-a', '2']);
    assert.ok(r.ok);
    assert.deepEqual(r.head, { method: 'POST', scheme: 'https', authority: null, path: '/x', headers: [['host', 'h:1'], ['x-a', '1'], ['x-a', '2']] });
  });

  it('rejects an absolute-form target', () => {
    assert.equal(requestHeadFromHttp1('GET', 'http://h/x', []).ok, false);
  });

  it('rejects names that are no tokens and values with NUL / CR / LF', () => {
    assert.deepEqual(requestHeadFromHttp1('GET', '/', [':path', '/x']), { ok: false, reason: 'header_name_invalid' });
    assert.deepEqual(requestHeadFromHttp1('GET', '/', ['', 'x']), { ok: false, reason: 'header_name_invalid' });
    assert.deepEqual(requestHeadFromHttp1('GET', '/', ['x-a', 'a\r\nb: c']), { ok: false, reason: 'header_value_invalid' });
  });
});
