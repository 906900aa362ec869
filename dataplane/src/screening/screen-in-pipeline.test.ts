/**
 * Issue 7 end to end in process: ambiguous paths, malformed hosts and TRACE reach a real
 * listener (HTTP/1.1 over TLS, HTTP/3) running the real pipeline and are answered locally;
 * the recording origin never sees them, while a well-formed request still gets through.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { h3Request } from '../testing/clients.ts';
import { openProxyToOrigin, type ProxyToOrigin } from '../testing/proxy-to-origin.ts';
import { sendRawHttp1 } from '../testing/raw-http1.ts';

describe('screening through the listener and the pipeline', () => {
  let proxy: ProxyToOrigin;
  before(async () => {
    proxy = await openProxyToOrigin();
  });
  after(() => proxy.close());

  async function h1(head: string): Promise<{ status: number; reason: string | null }> {
    const r = await sendRawHttp1(proxy.port, Buffer.from(head, 'latin1'), { expectResponses: 1, idleMs: 2000, deadlineMs: 5000 });
    assert.equal(r.responses.length, 1, `one response to ${JSON.stringify(head)} (${r.end})`);
    const response = r.responses[0];
    assert.ok(response);
    return { status: response.status, reason: response.headers.get('spooky-reason') ?? null };
  }

  test('HTTP/1.1: TRACE → 405, /a/..;/b → 400 bad_path, malformed Host → 400 bad_host; the origin sees none', async () => {
    const cases: Array<[string, number, string]> = [
      ['TRACE /m HTTP/1.1\r\nHost: localhost\r\n\r\n', 405, 'method_not_allowed'],
      ['GET /a/..;/b HTTP/1.1\r\nHost: localhost\r\n\r\n', 400, 'bad_path'],
      ['GET /a/%2e%2e%3b/b HTTP/1.1\r\nHost: localhost\r\n\r\n', 400, 'bad_path'],
      ['GET /m HTTP/1.1\r\nHost: a.example, b.example\r\n\r\n', 400, 'bad_host'],
      ['GET /m HTTP/1.1\r\nHost: user@localhost\r\n\r\n', 400, 'bad_host'],
      ['GET /m HTTP/1.1\r\nHost: localhost:99999\r\n\r\n', 400, 'bad_host'],
      ['GET /m HTTP/1.1\r\nHost: a b\r\n\r\n', 400, 'bad_host'],
      ['GET /m HTTP/1.1\r\nHost:\r\n\r\n', 400, 'bad_host'],
    ];
    for (const [head, status, reason] of cases) {
      assert.deepEqual(await h1(head), { status, reason }, JSON.stringify(head));
    }
    // node's HTTP/1.1 parser knows no TRACK: ingress answers its refusal (ingress/tcp/http1-client-error.ts).
    assert.deepEqual(await h1('TRACK /m HTTP/1.1\r\nHost: localhost\r\n\r\n'), { status: 400, reason: 'malformed_request' });
    assert.equal(proxy.origin.seen.length, 0, 'the origin saw none of them');
    assert.deepEqual(await h1('GET /fine HTTP/1.1\r\nHost: localhost\r\n\r\n'), { status: 200, reason: null });
    assert.deepEqual(
      proxy.origin.seen.map((r) => r.url),
      ['/fine'],
    );
  });

  test('HTTP/3: TRACE → 405, /a/..;/b → 400, a userinfo :authority → 400; the origin sees none', async () => {
    const before = proxy.origin.seen.length;
    const trace = await h3Request(proxy.port, 'TRACE', '/m');
    assert.equal(trace.status, 405);
    assert.equal(trace.headers['spooky-reason'], 'method_not_allowed');
    const path = await h3Request(proxy.port, 'GET', '/a/..;/b');
    assert.equal(path.status, 400);
    assert.equal(path.headers['spooky-reason'], 'bad_path');
    const host = await h3Request(proxy.port, 'GET', '/m', undefined, { ':authority': 'user@localhost' });
    assert.equal(host.status, 400);
    assert.equal(host.headers['spooky-reason'], 'bad_host');
    assert.equal(proxy.origin.seen.length, before);
    const fine = await h3Request(proxy.port, 'GET', '/fine-h3');
    assert.equal(fine.status, 200);
    assert.equal(proxy.origin.seen.at(-1)?.url, '/fine-h3');
  });
});
