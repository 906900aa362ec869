/**
 * screenRequest on its own: a memory Exchange and a context carrying only what the stage
 * reads (the parsed config's performance limits). The same rules end to end are in
 * pipeline/request-handler.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseConfig } from '@spooky/config';
import { isSpookyError } from '../errors.ts';
import { createMemoryExchange, type MemoryExchangeOptions } from '../http/memory-exchange.ts';
import type { RequestContext } from '../pipeline/context.ts';
import { screenRequest } from './screen-request.ts';

const parsed = parseConfig({
  version: 1,
  listen: { protocol: 'http3', address: '127.0.0.1', port: 9889, tls: { cert: 'c.pem', key: 'k.pem' } },
  upstream: { a: { route: { path_prefix: '/' }, backends: [{ id: 'a1', address: 'http://127.0.0.1:1' }] } },
});
if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
const config = parsed.config;

/** The error code the stage throws, or 'continue' with the host it set. */
function screen(options: MemoryExchangeOptions): string {
  const ctx = { exchange: createMemoryExchange(options), generation: { config }, host: null } as unknown as RequestContext;
  try {
    screenRequest.run(ctx);
    return `continue ${ctx.host}`;
  } catch (err) {
    assert.ok(isSpookyError(err), String(err));
    return `${err.httpStatus} ${err.code}`;
  }
}

describe('screenRequest', () => {
  test('content-length values must be digits and agree; several Host headers are refused', () => {
    const a = (headers: [string, string][]) => screen({ path: '/a', authority: 'app.example', headers });
    assert.equal(a([['content-length', '10']]), 'continue app.example');
    assert.equal(a([['content-length', ' 10 ']]), 'continue app.example');
    assert.equal(a([['content-length', '10, 10'], ['content-length', '10']]), 'continue app.example');
    assert.equal(a([['content-length', '10'], ['content-length', '11']]), '400 bad_content_length');
    assert.equal(a([['content-length', '10,11']]), '400 bad_content_length');
    assert.equal(a([['content-length', '']]), '400 bad_content_length');
    assert.equal(a([['content-length', '-1']]), '400 bad_content_length');
    assert.equal(a([['content-length', '1e3']]), '400 bad_content_length');
    assert.equal(a([['content-length', '999999999999999']]), '413 body_too_large');
    assert.equal(a([['host', 'app.example'], ['host', 'app.example']]), '400 bad_header');
    assert.equal(a([['host', 'other.example']]), '400 authority_mismatch');
  });

  test('an ordinary request continues with its normalised host', () => {
    assert.equal(screen({ path: '/a', authority: 'App.Example:443' }), 'continue app.example');
    assert.equal(screen({ path: '/a', authority: null, headers: [['host', 'app.example.']] }), 'continue app.example');
    assert.equal(screen({ path: '/a', authority: '[2001:DB8::1]:8443' }), 'continue 2001:db8::1');
    assert.equal(screen({ path: '/a', authority: '192.0.2.1' }), 'continue 192.0.2.1');
  });

  test('issue 7: TRACE and TRACK (any case) and CONNECT → 405 method_not_allowed', () => {
    for (const method of ['TRACE', 'TRACK', 'trace', 'Track', 'CONNECT', 'connect']) {
      assert.equal(screen({ method, path: '/a' }), '405 method_not_allowed', method);
    }
    assert.equal(screen({ method: 'GE T', path: '/a' }), '400 bad_method');
    assert.equal(screen({ method: 'PROPFIND', path: '/a' }), 'continue localhost');
  });

  test('issue 7: /a/..;/b and other ambiguous paths → 400 bad_path', () => {
    for (const path of ['/a/..;/b', '/a/.;x/b', '/a/%2e%2e;/b', '/a//b', '/a\\b', '/%252e', '/a%2fb', '/%00']) {
      assert.equal(screen({ path }), '400 bad_path', path);
    }
  });

  test('issue 7: malformed Host / :authority → 400 bad_host', () => {
    const authorities = [
      '',
      'user@app.example',
      'app.example:0',
      'app.example:65536',
      'app.example:',
      'app.example:44x',
      'a.example, b.example',
      'a.example b.example',
      'app\u0000.example',
      'app.example\r\n',
      ' app.example',
      '2001:db8::1',
      '[fe80::1%25eth0]',
      '[::1',
      '[::1]x',
      '127.1',
      '0x7f.0.0.1',
      '010.0.0.1',
      '256.0.0.1',
      'a..example',
      '.',
      'ex%61mple.com',
      'xn--caf-dma.example/evil',
    ];
    for (const authority of authorities) {
      assert.equal(screen({ path: '/a', authority }), '400 bad_host', JSON.stringify(authority));
      assert.equal(screen({ path: '/a', authority: null, headers: [['host', authority]] }), '400 bad_host', `host ${JSON.stringify(authority)}`);
    }
  });

  test('a host is required: neither :authority nor Host → 400 bad_host', () => {
    assert.equal(screen({ path: '/a', authority: null }), '400 bad_host');
  });

  test('several Host headers and a disagreeing Host keep their codes', () => {
    assert.equal(screen({ path: '/a', authority: null, headers: [['host', 'a.example'], ['host', 'a.example']] }), '400 bad_header');
    assert.equal(screen({ path: '/a', authority: 'a.example', headers: [['host', 'b.example']] }), '400 authority_mismatch');
    assert.equal(screen({ path: '/a', authority: 'a.example', headers: [['host', 'A.example:443']] }), 'continue a.example');
  });
});
