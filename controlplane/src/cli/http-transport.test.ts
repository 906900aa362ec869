import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { CliError } from './cli-error.ts';
import { HttpTransport, type TlsTrust, tlsError } from './http-transport.ts';

const NO_TLS: TlsTrust = { caFile: null, certFile: null, keyFile: null };

describe('spookyctl HTTP transport', () => {
  let server: Server;
  let port: number;
  const seen: { url: string; headers: Record<string, unknown>; body: string }[] = [];
  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        seen.push({ url: req.url ?? '', headers: req.headers, body });
        res.setHeader('etag', '"7"');
        res.end('{"ok":true}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends method, path (under the server URL path), headers and body; returns status, headers and text', async () => {
    const transport = new HttpTransport(`http://127.0.0.1:${port}/base`, NO_TLS);
    try {
      const answer = await transport.send({ method: 'POST', path: '/v1/x?y=1', headers: { 'content-type': 'application/json' }, body: '{"a":"é"}', timeoutMs: 5000 });
      assert.equal(answer.status, 200);
      assert.equal(answer.headers.get('etag'), '"7"');
      assert.equal(answer.text, '{"ok":true}');
      const last = seen.at(-1)!;
      assert.equal(last.url, '/base/v1/x?y=1');
      assert.equal(last.body, '{"a":"é"}');
      assert.equal(last.headers['content-length'], String(Buffer.byteLength('{"a":"é"}')));
    } finally {
      transport.close();
    }
  });

  it('an https:// URL to a plaintext server is tls_not_tls; a refused port is a network error', async () => {
    const tls = new HttpTransport(`https://127.0.0.1:${port}`, NO_TLS);
    await assert.rejects(
      tls.send({ method: 'GET', path: '/', headers: {}, timeoutMs: 5000 }),
      (err: unknown) => err instanceof CliError && err.code === 'tls_not_tls' && err.exitCode === 1 && /^TLS: https:\/\/127\.0\.0\.1:\d+ does not answer TLS/.test(err.message),
    );
    tls.close();
    const closed = await new Promise<number>((resolve) => {
      const probe = createServer();
      probe.listen(0, '127.0.0.1', () => {
        const p = (probe.address() as { port: number }).port;
        probe.close(() => resolve(p));
      });
    });
    const refused = new HttpTransport(`http://127.0.0.1:${closed}`, NO_TLS);
    await assert.rejects(
      refused.send({ method: 'GET', path: '/', headers: {}, timeoutMs: 5000 }),
      (err: unknown) => err instanceof CliError && err.code === 'network' && err.message === `cannot reach http://127.0.0.1:${closed}: ECONNREFUSED`,
    );
    refused.close();
  });

  it('maps certificate and handshake failures to one-line causes', () => {
    const origin = 'https://cp.example:8443';
    const code = (c: string, trust = NO_TLS, handshook = false) => tlsError({ code: c }, origin, trust, handshook)?.code ?? null;
    assert.equal(code('UNABLE_TO_GET_ISSUER_CERT_LOCALLY'), 'tls_untrusted');
    assert.equal(code('DEPTH_ZERO_SELF_SIGNED_CERT'), 'tls_untrusted');
    assert.equal(code('ERR_TLS_CERT_ALTNAME_INVALID'), 'tls_hostname');
    assert.equal(code('CERT_HAS_EXPIRED'), 'tls_expired');
    assert.equal(code('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'), 'tls_client_cert');
    assert.equal(code('ERR_SSL_SOMETHING_ELSE'), 'tls_handshake');
    assert.equal(code('ECONNREFUSED'), null, 'not a TLS failure');
    const eproto = (message: string) => tlsError({ code: 'EPROTO', message }, origin, NO_TLS);
    assert.equal(eproto('write EPROTO 40:error:0A00010B:SSL routines:tls_validate_record_header:wrong version number:x.c:77:')?.code, 'tls_not_tls');
    assert.equal(eproto('write EPROTO 40:error:0A000410:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure:x.c:1:')?.message, 'TLS: handshake with https://cp.example:8443 failed (sslv3 alert handshake failure)');
    assert.equal(eproto('write EPROTO')?.code ?? null, null);
    assert.equal(code('ECONNRESET'), null, 'a reset without a client certificate is the network');
    const withCert: TlsTrust = { caFile: null, certFile: 'ci.crt', keyFile: 'ci.key' };
    assert.equal(code('ECONNRESET', withCert, false), null, 'a reset on a reused connection is the network');
    assert.equal(code('ECONNRESET', withCert, true), 'tls_client_cert');
    const expired = tlsError({ code: 'CERT_HAS_EXPIRED' }, origin, NO_TLS);
    assert.equal(expired?.message, 'TLS: certificate of https://cp.example:8443 is expired (CERT_HAS_EXPIRED)');
    const hostname = tlsError({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' }, origin, NO_TLS);
    assert.match(hostname?.message ?? '', /is not valid for cp\.example /);
    assert.ok(!tlsError({ code: 'ECONNRESET' }, origin, withCert, true)?.message.includes('ci.key'), 'never the key path');
  });
});
