import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { closedTcpPort } from '../testing/free-port.ts';
import { createUndiciProber } from './undici-prober.ts';

const SETTINGS = { connectTimeoutMs: 1000, verifyCertificates: true, ca: null };

describe('undici prober', () => {
  let server: Server;
  let url: string;
  const seen: Array<{ path: string; ua: string | undefined }> = [];
  let release: Array<() => void> = [];

  before(async () => {
    server = createServer((req, res) => {
      seen.push({ path: req.url ?? '', ua: req.headers['user-agent'] });
      if (req.url === '/slow') {
        release.push(() => res.end('late'));
        return;
      }
      res.statusCode = req.url === '/health' ? 200 : req.url === '/missing' ? 404 : 503;
      res.end('x'.repeat(100_000));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    for (const r of release) r();
    release = [];
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('reports the status of GET <path>, draining large bodies', async () => {
    const prober = createUndiciProber(url, SETTINGS);
    const signal = new AbortController().signal;
    assert.deepEqual(await prober.probe({ path: '/health', timeoutMs: 1000, signal }), { kind: 'response', status: 200 });
    assert.deepEqual(await prober.probe({ path: '/missing', timeoutMs: 1000, signal }), { kind: 'response', status: 404 });
    assert.deepEqual(await prober.probe({ path: '/boom', timeoutMs: 1000, signal }), { kind: 'response', status: 503 });
    assert.equal(seen[0]?.ua, 'spooky-health-check');
    await prober.close();
  });

  it('reports a timeout when no head arrives within timeoutMs', async () => {
    const prober = createUndiciProber(url, SETTINGS);
    const result = await prober.probe({ path: '/slow', timeoutMs: 50, signal: new AbortController().signal });
    assert.deepEqual(result, { kind: 'timeout' });
    await prober.close();
  });

  it('reports a transport error when nothing listens', async () => {
    const port = await closedTcpPort();
    const prober = createUndiciProber(`http://127.0.0.1:${port}`, SETTINGS);
    const result = await prober.probe({ path: '/health', timeoutMs: 1000, signal: new AbortController().signal });
    assert.deepEqual(result, { kind: 'error', code: 'ECONNREFUSED' });
    await prober.close();
  });
});
