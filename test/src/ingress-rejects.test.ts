/**
 * Every request is counted, also the ones ingress answers before the pipeline: bytes node's
 * HTTP/1.1 parser refuses (a malformed request line, a head over the header limit), an HTTP/1.1
 * target not in origin form, an Upgrade other than websocket, an HTTP/3 `:path` that does not
 * start with `/`. Over real sockets (raw TLS for HTTP/1.1, the library's client for HTTP/3)
 * against a real data plane, each must get its status with `spooky-reason` and an
 * `x-request-id` (the client's when valid), one access-log line with that request id and the
 * closed outcome, and a count in spooky_requests_total{upstream="none",outcome=…}.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type CertFiles, ensureSelfSignedCert } from './harness/certs.ts';
import { DataPlane } from './harness/data-plane.ts';
import { freePort } from './harness/free-port.ts';
import { connectH3, h3Request } from './harness/h3-client.ts';
import { type Origin, startH1Origin } from './harness/origins.ts';
import { parseExposition } from './harness/promql-names.ts';
import { rawTls } from './harness/raw-tls.ts';

const ANSWER_MS = 5000;

interface RawAnswer {
  readonly status: number;
  readonly headers: Map<string, string>;
}

/** Sends `bytes` on a fresh TLS connection and reads the one response head it gets; `closes`: the connection must close after it. */
async function rawRequest(port: number, bytes: string, closes: boolean): Promise<RawAnswer> {
  const conn = await rawTls(port);
  try {
    conn.write(Buffer.from(bytes, 'latin1'));
    await conn.waitUntil(() => conn.received.includes('\r\n\r\n'), ANSWER_MS);
    const [head = ''] = conn.received.toString('latin1').split('\r\n\r\n');
    const [statusLine = '', ...lines] = head.split('\r\n');
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? 0);
    const headers = new Map(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()] as [string, string]));
    // After a framing error nothing more on the connection can be trusted: node's parser refusals close it.
    if (closes) assert.ok(await conn.waitClosed(ANSWER_MS), 'the connection is closed after the refusal');
    return { status, headers };
  } finally {
    conn.destroy();
  }
}

describe('ingress refusals get a request id, an access-log line and a count', () => {
  let dir: string;
  let cert: CertFiles;
  let origin: Origin;
  let dp: DataPlane;
  let port: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spooky-ingress-rejects-'));
    cert = ensureSelfSignedCert(join(dir, 'certs'));
    origin = await startH1Origin('app');
    port = await freePort();
    const config = join(dir, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({
        version: 1,
        listen: { address: '127.0.0.1', port, tls: { cert: cert.cert, key: cert.key } },
        upstream: { app: { route: { path_prefix: '/' }, backends: [{ id: 'app-1', address: origin.url }] } },
        // node's HTTP/1.1 header bound: 2 × 4096 + 32 × 32 = 9216 bytes (limits/connection-limits.ts).
        performance: { max_request_header_bytes: 4096, max_request_headers: 32 },
      }),
    );
    dp = await DataPlane.start({ config });
    await dp.proc.waitForLog((l) => l.msg === 'generation applied', 20_000);
  });

  after(async () => {
    await dp?.proc.stop();
    await origin?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The access-log line of `requestId` (bounded wait). */
  const accessLine = async (requestId: string): Promise<Record<string, unknown>> => dp.proc.waitForLog((l) => l.msg === 'request' && l['requestId'] === requestId, 10_000, 0);

  const cases: ReadonlyArray<{ readonly name: string; readonly bytes: (port: number) => string; readonly status: number; readonly reason: string; readonly outcome: string; readonly closes: boolean; readonly clientId?: string }> = [
    { name: 'a malformed request line (node parser)', bytes: () => 'NOT A REQUEST\r\n\r\n', status: 400, reason: 'malformed_request', outcome: 'rejected:malformed_request', closes: true },
    {
      // 12 KiB: over node's bound, and within one TLS record, so node reads all of it before it
      // closes (unread bytes at the close would make the kernel reset the connection and drop the answer).
      name: 'a head over node\'s header bound (node parser)',
      bytes: (p) => `GET / HTTP/1.1\r\nHost: localhost:${p}\r\nx-big: ${'a'.repeat(12 * 1024)}\r\n\r\n`,
      status: 431,
      reason: 'headers_too_large',
      outcome: 'rejected:headers_too_large',
      closes: true,
    },
    {
      name: 'a target not in origin form (ingress head check), with the client request id kept',
      bytes: (p) => `GET http://localhost:${p}/x HTTP/1.1\r\nHost: localhost:${p}\r\nx-request-id: h1-absolute-form\r\n\r\n`,
      status: 400,
      reason: 'path_invalid',
      outcome: 'rejected:path_invalid',
      closes: false,
      clientId: 'h1-absolute-form',
    },
    {
      name: 'an Upgrade other than websocket (tunnel adapter)',
      bytes: (p) => `GET / HTTP/1.1\r\nHost: localhost:${p}\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n`,
      status: 400,
      reason: 'bad_upgrade',
      outcome: 'rejected:bad_upgrade',
      closes: true,
    },
  ];

  for (const c of cases) {
    test(`HTTP/1.1 ${c.name}: ${c.status} ${c.reason}`, async () => {
      const answer = await rawRequest(port, c.bytes(port), c.closes);
      assert.equal(answer.status, c.status);
      assert.equal(answer.headers.get('spooky-reason'), c.reason);
      const requestId = answer.headers.get('x-request-id');
      assert.ok(requestId, 'the refusal carries x-request-id');
      if (c.clientId !== undefined) assert.equal(requestId, c.clientId);
      const line = await accessLine(requestId);
      assert.equal(line['status'], c.status);
      assert.equal(line['outcome'], c.outcome);
      assert.equal(line['protocol'], 'http/1.1');
      assert.equal(line['upstream'], null);
    });
  }

  test('HTTP/3 a :path not starting with / (pseudo-header check): 400 path_invalid with the client request id', async () => {
    const session = await connectH3(port);
    try {
      const res = await h3Request(session, port, { path: 'no-slash', headers: { 'x-request-id': 'h3-bad-path' }, timeoutMs: ANSWER_MS });
      assert.equal(res.status, 400);
      assert.equal(res.headers['spooky-reason'], 'path_invalid');
      assert.equal(res.headers['x-request-id'], 'h3-bad-path');
    } finally {
      await session.close().catch(() => {});
    }
    const line = await accessLine('h3-bad-path');
    assert.equal(line['outcome'], 'rejected:path_invalid');
    assert.equal(line['protocol'], 'h3');
    assert.equal(line['path'], 'no-slash');
  });

  test('spooky_requests_total counts each refusal under upstream "none", 4xx and its outcome', async () => {
    const text = await (await fetch(`${dp.admin}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
    assert.ok(parseExposition(text).get('spooky_requests_total')?.labels.has('outcome'));
    for (const outcome of ['rejected:malformed_request', 'rejected:headers_too_large', 'rejected:path_invalid', 'rejected:bad_upgrade']) {
      const sample = text.split('\n').find((l) => l.startsWith('spooky_requests_total{') && l.includes(`outcome="${outcome}"`));
      assert.ok(sample, `a spooky_requests_total sample with outcome ${outcome}`);
      assert.match(sample, /upstream="none"/);
      assert.match(sample, /status_class="4xx"/);
      // Exactly once each (path_invalid: once over HTTP/1.1, once over HTTP/3).
      assert.equal(Number(sample.slice(sample.lastIndexOf(' ') + 1)), outcome === 'rejected:path_invalid' ? 2 : 1, sample);
    }
  });
});
