/**
 * End-to-end: forwarding header policies through a real data plane. A real HTTP/3 client
 * (the library's) → Spooky (standalone, config file) → an HTTP/1.1 origin that echoes the
 * headers it received. One upstream per policy, routed by path prefix:
 *  /plain   defaults: overwrite, Host passed through, Via `3 spooky`, tracing on
 *  /append  append, trusting 127.0.0.0/8 (the client's address here)
 *  /strict  append, trusting only 10.0.0.0/8 (acts as overwrite for us)
 *  /keep    preserve, trusting 127.0.0.1; no Via
 *  /rewrite host_policy rewrite (api.internal)
 *  /backend host_policy upstream (the origin's 127.0.0.1:<port>)
 * Also over HTTP/1.1 and HTTP/2 on the TLS listener (Via version), and over IPv6 (::1, when
 * the host has an IPv6 loopback: quoted `for="[::1]"`, IPv6 trusted-proxy CIDRs).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as h2connect } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Http3ClientSession } from '@currentspace/http3';
import { ensureSelfSignedCert } from './harness/certs.ts';
import { DataPlane } from './harness/data-plane.ts';
import { freePortOn } from './harness/free-port.ts';
import { connectH3, h3Request } from './harness/h3-client.ts';
import { type Origin, startH1Origin } from './harness/origins.ts';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

/** False when this host has no IPv6 loopback (a container started without it). */
async function ipv6Loopback(): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(0, '::1', () => srv.close(() => resolve(true)));
  });
}

const HAS_IPV6 = await ipv6Loopback();

type Echoed = Record<string, string>;

/** GET over HTTP/2 on the TLS listener; the headers the origin saw. */
async function h2Seen(port: number, path: string): Promise<Echoed> {
  const client = h2connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false, servername: 'localhost' });
  client.on('error', () => {});
  try {
    const req = client.request({ ':path': path, ':authority': `localhost:${port}` }, { endStream: true, signal: AbortSignal.timeout(30_000) });
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return (JSON.parse(Buffer.concat(chunks).toString()) as { headers: Echoed }).headers;
  } finally {
    client.close();
  }
}

/** GET over HTTP/1.1 on the TLS listener; the headers the origin saw. */
async function h1Seen(port: number, path: string): Promise<Echoed> {
  const req = httpsRequest({
    host: '127.0.0.1',
    port,
    path,
    rejectUnauthorized: false,
    servername: 'localhost',
    agent: false,
    headers: { host: `localhost:${port}` },
    signal: AbortSignal.timeout(30_000),
  });
  req.end();
  const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return (JSON.parse(Buffer.concat(chunks).toString()) as { headers: Echoed }).headers;
}

describe('forwarding header policies end to end (HTTP/3 → Spooky → HTTP/1.1 echo)', () => {
  let dir: string;
  let origin: Origin;
  let dp: DataPlane;
  let port: number;
  let session: Http3ClientSession;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spooky-fwd-'));
    const cert = ensureSelfSignedCert(join(dir, 'certs'));
    origin = await startH1Origin('echo');
    port = await freePortOn(HAS_IPV6 ? ['127.0.0.1', '::1'] : ['127.0.0.1']);
    const tls = { cert: cert.cert, key: cert.key };
    const backends = [{ id: 'echo', address: origin.url }];
    const config = {
      version: 1,
      listeners: [{ address: '127.0.0.1', port, tls }, ...(HAS_IPV6 ? [{ address: '::1', port, tls }] : [])],
      forwarded_headers: { trusted_proxies: ['127.0.0.0/8', '::1/128'] },
      upstream: {
        plain: { route: { path_prefix: '/plain' }, backends },
        append: { route: { path_prefix: '/append' }, backends, forwarded_headers: { mode: 'append' } },
        strict: { route: { path_prefix: '/strict' }, backends, forwarded_headers: { mode: 'append', trusted_proxies: ['10.0.0.0/8'] } },
        keep: { route: { path_prefix: '/keep' }, backends, forwarded_headers: { mode: 'preserve', trusted_proxies: ['127.0.0.1'], via: false } },
        rewrite: { route: { path_prefix: '/rewrite' }, backends, host_policy: 'rewrite', host_rewrite: 'api.internal' },
        backend: { route: { path_prefix: '/backend' }, backends, host_policy: 'upstream' },
      },
    };
    const configPath = join(dir, 'spooky.json');
    writeFileSync(configPath, JSON.stringify(config));
    dp = await DataPlane.start({ config: configPath });
    await dp.proc.waitForLog((l) => l.msg === 'generation applied', 60_000);
    session = await connectH3(port);
  });

  after(async () => {
    await session?.close().catch(() => undefined);
    await dp?.proc.stop();
    await origin?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** GET `path` with `headers`; the headers the origin saw and the access-log line of the request. */
  async function seen(path: string, headers: Record<string, string> = {}, on: Http3ClientSession = session) {
    const reply = await h3Request(on, port, { path, headers, timeoutMs: 30_000 });
    assert.equal(reply.status, 200, `${path}: ${reply.status} ${reply.body.toString('utf8')}`);
    const echoed = JSON.parse(reply.body.toString('utf8')) as { headers: Record<string, string> };
    const requestId = String(reply.headers['x-request-id']);
    const log = await dp.proc.waitForLog((l) => l.msg === 'request' && l['requestId'] === requestId, 30_000);
    return { headers: echoed.headers, log };
  }

  const SPOOFED = {
    'x-forwarded-for': '198.51.100.1',
    'x-forwarded-proto': 'http',
    'x-forwarded-host': 'orig.example',
    forwarded: 'for=198.51.100.1;proto=http',
  };

  test('defaults: inbound claims replaced, Forwarded + X-Forwarded-* ours, Via appended, traceparent propagated unchanged and logged', async () => {
    const { headers, log } = await seen('/plain/x', { ...SPOOFED, via: '1.1 cdn', traceparent: TRACEPARENT, tracestate: 'vendor=1' });
    const authority = `localhost:${port}`;
    assert.equal(headers['host'], authority);
    assert.equal(headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(headers['x-forwarded-proto'], 'https');
    assert.equal(headers['x-forwarded-host'], authority);
    assert.equal(headers['forwarded'], `for=127.0.0.1;proto=https;host="${authority}"`);
    assert.equal(headers['via'], '1.1 cdn, 3 spooky');
    assert.equal(headers['traceparent'], TRACEPARENT);
    assert.equal(headers['tracestate'], 'vendor=1');
    assert.equal(log['traceId'], '4bf92f3577b34da6a3ce929d0e0e4736');
  });

  test('no traceparent: a fresh one is generated (sampled), its trace id in the access log', async () => {
    const { headers, log } = await seen('/plain/y', { tracestate: 'orphan=1' });
    const traceparent = headers['traceparent'] ?? '';
    assert.match(traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    assert.equal(headers['tracestate'], undefined, 'tracestate only travels with a valid traceparent');
    assert.equal(log['traceId'], traceparent.slice(3, 35));
  });

  test('a request answered locally (404) logs the valid inbound trace id', async () => {
    const reply = await h3Request(session, port, { path: '/nowhere', headers: { traceparent: TRACEPARENT }, timeoutMs: 30_000 });
    assert.equal(reply.status, 404);
    const requestId = String(reply.headers['x-request-id']);
    const log = await dp.proc.waitForLog((l) => l.msg === 'request' && l['requestId'] === requestId, 30_000);
    assert.equal(log['traceId'], '4bf92f3577b34da6a3ce929d0e0e4736');
  });

  test('append from a trusted peer extends both chains; from an untrusted one it acts as overwrite', async () => {
    const trusted = (await seen('/append/x', SPOOFED)).headers;
    assert.equal(trusted['x-forwarded-for'], '198.51.100.1, 127.0.0.1');
    assert.equal(trusted['forwarded'], `for=198.51.100.1;proto=http, for=127.0.0.1;proto=https;host="localhost:${port}"`);
    assert.equal(trusted['x-forwarded-proto'], 'http');
    assert.equal(trusted['x-forwarded-host'], 'orig.example');
    const untrusted = (await seen('/strict/x', SPOOFED)).headers;
    assert.equal(untrusted['x-forwarded-for'], '127.0.0.1');
    assert.equal(untrusted['x-forwarded-host'], `localhost:${port}`);
  });

  test('preserve from a trusted peer passes the inbound headers unchanged and adds none; Via off', async () => {
    const { headers } = await seen('/keep/x', SPOOFED);
    for (const [name, value] of Object.entries(SPOOFED)) assert.equal(headers[name], value, name);
    assert.equal(headers['via'], undefined);
    const bare = (await seen('/keep/y')).headers;
    assert.equal(bare['x-forwarded-for'], undefined);
    assert.equal(bare['forwarded'], undefined);
  });

  test('host_policy rewrite sends the literal, upstream the backend host:port; X-Forwarded-Host stays the client host', async () => {
    const rewritten = (await seen('/rewrite/x')).headers;
    assert.equal(rewritten['host'], 'api.internal');
    assert.equal(rewritten['x-forwarded-host'], `localhost:${port}`);
    const backend = (await seen('/backend/x')).headers;
    assert.equal(backend['host'], `127.0.0.1:${origin.port}`);
    assert.equal(backend['x-forwarded-host'], `localhost:${port}`);
  });

  test('Via names the client protocol: 1.1 and 2 on the TLS listener', async () => {
    const h1 = await h1Seen(port, '/plain/h1');
    assert.equal(h1['via'], '1.1 spooky');
    assert.equal(h1['x-forwarded-for'], '127.0.0.1');
    const h2 = await h2Seen(port, '/plain/h2');
    assert.equal(h2['via'], '2 spooky');
    assert.equal(h2['forwarded'], `for=127.0.0.1;proto=https;host="localhost:${port}"`);
  });

  test('IPv6 client: quoted bracketed for= node; an IPv6 trusted proxy is believed', { skip: HAS_IPV6 ? false : 'no IPv6 loopback' }, async () => {
    const v6 = await connectH3(port, '::1');
    try {
      const overwrite = (await seen('/strict/v6', SPOOFED, v6)).headers;
      assert.equal(overwrite['x-forwarded-for'], '::1');
      assert.equal(overwrite['forwarded'], `for="[::1]";proto=https;host="localhost:${port}"`);
      const appended = (await seen('/append/v6', SPOOFED, v6)).headers;
      assert.equal(appended['x-forwarded-for'], '198.51.100.1, ::1');
      assert.equal(appended['forwarded'], `for=198.51.100.1;proto=http, for="[::1]";proto=https;host="localhost:${port}"`);
    } finally {
      await v6.close().catch(() => undefined);
    }
  });
});
