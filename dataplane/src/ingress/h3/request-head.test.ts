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
});
