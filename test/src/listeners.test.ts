/**
 * Listeners on both address families (issue 10): one data plane with two listeners on the same
 * port, 127.0.0.1 and ::1 — what a `localhost` client needs when it tries ::1 first (Chromium
 * does). Every protocol answers on both: HTTP/3 (the library's client), HTTP/2 and HTTP/1.1
 * over TLS, each with our Alt-Svc, forwarded to the same origin.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as h2connect } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureSelfSignedCert } from './harness/certs.ts';
import { DataPlane } from './harness/data-plane.ts';
import { freePortOn } from './harness/free-port.ts';
import { connectH3, h3Request } from './harness/h3-client.ts';
import { type Origin, startH1Origin } from './harness/origins.ts';

interface Answer {
  readonly status: number;
  readonly altSvc: string | undefined;
  readonly body: string;
}

async function h2Get(host: string, port: number): Promise<Answer> {
  const client = h2connect(`https://${host}:${port}`, { rejectUnauthorized: false, servername: 'localhost' });
  client.on('error', () => {});
  try {
    const req = client.request({ ':path': '/family', ':authority': `localhost:${port}` }, { endStream: true, signal: AbortSignal.timeout(10_000) });
    const [headers] = (await once(req, 'response')) as [Record<string, string | undefined>];
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return { status: Number(headers[':status']), altSvc: headers['alt-svc'], body: Buffer.concat(chunks).toString() };
  } finally {
    client.close();
  }
}

async function h1Get(host: string, port: number): Promise<Answer> {
  const req = httpsRequest({ host, port, path: '/family', rejectUnauthorized: false, servername: 'localhost', agent: false, headers: { host: `localhost:${port}` }, signal: AbortSignal.timeout(10_000) });
  req.end();
  const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  const altSvc = res.headers['alt-svc'];
  return { status: res.statusCode ?? 0, altSvc: Array.isArray(altSvc) ? altSvc[0] : altSvc, body: Buffer.concat(chunks).toString() };
}

async function h3Get(host: string, port: number): Promise<Answer> {
  const session = await connectH3(port, host);
  try {
    const r = await h3Request(session, port, { path: '/family' });
    const altSvc = r.headers['alt-svc'];
    return { status: r.status, altSvc: Array.isArray(altSvc) ? altSvc[0] : altSvc, body: r.body.toString() };
  } finally {
    await session.close();
  }
}

/** False when this host has no IPv6 loopback (a container started without it). */
async function ipv6Loopback(): Promise<boolean> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(0, '::1', () => srv.close(() => resolve(true)));
  });
}

const HAS_IPV6 = await ipv6Loopback();

describe('listeners on 127.0.0.1 and ::1 (one port)', { skip: HAS_IPV6 ? false : 'this host has no IPv6 loopback (::1 cannot be bound)' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'spooky-listeners-'));
  let origin: Origin;
  let dp: DataPlane;
  let port: number;

  before(async () => {
    const cert = ensureSelfSignedCert(dir);
    origin = await startH1Origin('family');
    port = await freePortOn(['127.0.0.1', '::1']);
    const tls = `{ cert: ${JSON.stringify(cert.cert)}, key: ${JSON.stringify(cert.key)} }`;
    const config = join(dir, 'spooky.yaml');
    writeFileSync(
      config,
      [
        'version: 1',
        'listeners:',
        `  - { protocol: http3, address: 127.0.0.1, port: ${port}, tls: ${tls} }`,
        `  - { protocol: http3, address: '::1', port: ${port}, tls: ${tls} }`,
        'upstream:',
        '  app:',
        '    route: { path_prefix: / }',
        `    backends: [{ id: a, address: ${JSON.stringify(origin.url)} }]`,
        '',
      ].join('\n'),
    );
    dp = await DataPlane.start({ config });
    await dp.proc.waitForLog((l) => l.msg === 'generation applied' && Array.isArray(l['listeners']) && (l['listeners'] as unknown[]).length === 2, 20_000);
  });
  after(async () => {
    await dp?.proc.stop();
    await origin?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [family, host] of [['IPv4', '127.0.0.1'], ['IPv6', '::1']] as const) {
    test(`${family}: HTTP/3, HTTP/2 and HTTP/1.1 are answered by the same upstream, with Alt-Svc`, async () => {
      const seen = origin.requests.length;
      const answers = [await h3Get(host, port), await h2Get(host.includes(':') ? `[${host}]` : host, port), await h1Get(host, port)];
      for (const [i, a] of answers.entries()) {
        assert.equal(a.status, 200, `${family} #${i}: ${a.body}`);
        assert.equal(a.altSvc, `h3=":${port}"; ma=86400`, `${family} #${i}`);
      }
      assert.equal(origin.requests.length, seen + 3, 'every request reached the origin');
    });
  }
});
