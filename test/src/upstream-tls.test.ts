/**
 * End to end: per-upstream TLS. A real node:http2 TLS origin that requires a client
 * certificate (requestCert + rejectUnauthorized), with its own CA, and a second HTTPS origin
 * trusted through the global `upstream_tls.ca_file`. A standalone data plane (`--config`) with
 * an HTTP/3 client in front:
 *   - the upstream with `tls.cert` + `tls.key` reaches the mTLS origin (which saw the client's CN);
 *   - the same origin without a client certificate → 502 `upstream_tls_failed`;
 *   - an upstream's own `ca_file` replaces the global CAs (the global-CA origin fails there)
 *     while another upstream keeps the global CA;
 *   - `server_name` + `strict_sni` to an IP backend: the origin sees that SNI and the
 *     certificate is verified against it (a name it does not carry → 502);
 *   - health probes of an mTLS upstream present the same client certificate.
 * Every wait is bounded; synchronised on responses.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createSecureServer, type Http2SecureServer, type ServerHttp2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TLSSocket } from 'node:tls';
import type { Http3ClientSession } from '@currentspace/http3';
import { type CertFiles, ensureSelfSignedCert } from './harness/certs.ts';
import { DataPlane } from './harness/data-plane.ts';
import { freePort } from './harness/free-port.ts';
import { connectH3, h3Request } from './harness/h3-client.ts';
import { type Origin, startH2Origin } from './harness/origins.ts';
import type { SpawnedProcess } from './harness/spawned-process.ts';

/** A self-signed P-256 certificate (its own CA) with the given subject and SANs. */
function makeCert(dir: string, name: string, cn: string, san: string): CertFiles {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', `/CN=${cn}`, '-addext', `subjectAltName=${san}`, '-keyout', key, '-out', cert],
    { stdio: 'ignore' },
  );
  return { cert, key };
}

interface MtlsOrigin {
  readonly url: string;
  /** Per answered request: the client certificate's CN and the SNI the origin saw. */
  readonly seen: Array<{ path: string; cn: string; sni: string | false }>;
  /** Handshakes the origin refused (e.g. no client certificate). */
  rejected: number;
  close(): Promise<void>;
}

/** node:http2 over TLS that answers only clients presenting a certificate signed by `clientCa`. */
async function startMtlsOrigin(cert: CertFiles, clientCa: string): Promise<MtlsOrigin> {
  const server: Http2SecureServer = createSecureServer({
    cert: readFileSync(cert.cert),
    key: readFileSync(cert.key),
    ca: readFileSync(clientCa),
    requestCert: true,
    rejectUnauthorized: true,
    allowHTTP1: false,
  });
  const sessions = new Set<ServerHttp2Session>();
  const origin: MtlsOrigin = {
    url: '',
    seen: [],
    rejected: 0,
    close: () =>
      new Promise((resolve) => {
        for (const s of sessions) s.destroy();
        server.close(() => resolve());
      }),
  };
  server.on('tlsClientError', () => {
    origin.rejected++;
  });
  server.on('session', (s) => {
    sessions.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sessions.delete(s));
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => undefined);
    const socket = stream.session?.socket as TLSSocket | undefined;
    const cn = String(socket?.getPeerCertificate().subject?.CN ?? '');
    origin.seen.push({ path: String(headers[':path']), cn, sni: socket?.servername ?? false });
    stream.respond({ ':status': 200, 'x-origin': 'mtls', 'x-client-cn': cn });
    stream.end('mtls ok');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return Object.assign(origin, { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}` });
}

describe('upstream TLS per upstream: mTLS, own CA, server name (standalone data plane, real TLS origins)', () => {
  let dir: string;
  let mtls: MtlsOrigin;
  let globalOrigin: Origin;
  let dp: SpawnedProcess;
  let port: number;
  let session: Http3ClientSession;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spooky-upstream-tls-'));
    const listener = ensureSelfSignedCert(join(dir, 'listener'));
    const originCert = makeCert(dir, 'mtls-origin', 'mtls-origin', 'IP:127.0.0.1,DNS:origin.test');
    const client = makeCert(dir, 'client', 'spooky-edge', 'DNS:spooky-edge');
    const globalCert = makeCert(dir, 'global-origin', 'global-origin', 'IP:127.0.0.1');
    mtls = await startMtlsOrigin(originCert, client.cert);
    globalOrigin = await startH2Origin('global', globalCert);
    port = await freePort();
    const backend = (address: string) => [{ id: 'o', address }];
    const config = {
      version: 1,
      listen: { address: '127.0.0.1', port, tls: { cert: listener.cert, key: listener.key } },
      upstream_tls: { ca_file: globalCert.cert },
      upstream: {
        mtls: { route: { path_prefix: '/mtls' }, backends: backend(mtls.url), tls: { ca_file: originCert.cert, cert: client.cert, key: client.key } },
        nocert: { route: { path_prefix: '/nocert' }, backends: backend(mtls.url), tls: { ca_file: originCert.cert } },
        named: {
          route: { path_prefix: '/named' },
          backends: backend(mtls.url),
          tls: { ca_file: originCert.cert, cert: client.cert, key: client.key, server_name: 'origin.test', strict_sni: true },
        },
        misnamed: {
          route: { path_prefix: '/misnamed' },
          backends: backend(mtls.url),
          tls: { ca_file: originCert.cert, cert: client.cert, key: client.key, server_name: 'other.test', strict_sni: true },
        },
        global: { route: { path_prefix: '/global' }, backends: backend(globalOrigin.url) },
        probed: {
          route: { path_prefix: '/probed' },
          backends: [{ id: 'o', address: mtls.url, health_check: { path: '/probe-health', interval: 200, timeout_ms: 200 } }],
          tls: { ca_file: originCert.cert, cert: client.cert, key: client.key },
        },
        ownca: { route: { path_prefix: '/ownca' }, backends: backend(globalOrigin.url), tls: { ca_file: originCert.cert } },
      },
    };
    const path = join(dir, 'spooky.json');
    writeFileSync(path, JSON.stringify(config));
    ({ proc: dp } = await DataPlane.start({ config: path }));
    await dp.waitForLog((l) => l.msg === 'generation applied', 30_000);
    session = await connectH3(port);
  });

  after(async () => {
    await session?.close().catch(() => undefined);
    await dp?.stop();
    await mtls?.close();
    await globalOrigin?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const get = (path: string) => h3Request(session, port, { path, timeoutMs: 30_000 });

  test('with the upstream client certificate the mTLS origin answers and sees its CN', async () => {
    const res = await get('/mtls/a');
    assert.equal(res.status, 200, res.body.toString());
    assert.equal(res.headers['x-client-cn'], 'spooky-edge');
    assert.equal(res.body.toString(), 'mtls ok');
    // By path: the health probes (every 200 ms) reach the same origin in between.
    assert.equal(mtls.seen.findLast((r) => r.path === '/mtls/a')?.sni, false, 'an IP backend without server_name gets no SNI');
  });

  test('without a client certificate the same origin refuses: 502 upstream_tls_failed', async () => {
    const rejectedBefore = mtls.rejected;
    const res = await get('/nocert/a');
    assert.equal(res.status, 502, res.body.toString());
    assert.equal(res.headers['spooky-reason'], 'upstream_tls_failed');
    assert.ok(!mtls.seen.some((r) => r.path === '/nocert/a'), 'the origin answered no request without a certificate');
    assert.ok(mtls.rejected > rejectedBefore, 'the origin refused the handshake');
  });

  test('an upstream CA replaces the global one; another upstream keeps the global CA', async () => {
    const global = await get('/global/a');
    assert.equal(global.status, 200, global.body.toString());
    assert.equal(global.headers['x-origin'], 'global');
    const own = await get('/ownca/a');
    assert.equal(own.status, 502, 'the global-CA origin is not trusted by an upstream with its own CA');
    assert.equal(own.headers['spooky-reason'], 'upstream_tls_failed');
  });

  test('server_name + strict_sni: sent as SNI and verified; a name the certificate lacks fails', async () => {
    const named = await get('/named/a');
    assert.equal(named.status, 200, named.body.toString());
    assert.equal(mtls.seen.findLast((r) => r.path === '/named/a')?.sni, 'origin.test');
    const misnamed = await get('/misnamed/a');
    assert.equal(misnamed.status, 502);
    assert.equal(misnamed.headers['spooky-reason'], 'upstream_tls_failed');
  });

  test('health probes of an mTLS upstream present the client certificate', async () => {
    const deadline = Date.now() + 30_000;
    while (!mtls.seen.some((r) => r.path === '/probe-health')) {
      assert.ok(Date.now() < deadline, 'no probe reached the mTLS origin');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(mtls.seen.find((r) => r.path === '/probe-health')?.cn, 'spooky-edge');
    const res = await get('/probed/a');
    assert.equal(res.status, 200, 'the probed backend is healthy and serves');
  });

  test('no key material or key path in the data plane log', () => {
    const text = dp.lines.map((l) => JSON.stringify(l)).join('\n');
    assert.ok(!text.includes('PRIVATE KEY'), 'no PEM key');
    assert.ok(!text.includes('client.key'), 'no key path');
  });
});
