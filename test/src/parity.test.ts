/**
 * Protocol parity (issue 10): one standalone data plane, the same cases over HTTP/3, HTTP/2 and
 * HTTP/1.1, each through an HTTP/1.1 origin (`/p1`) and an HTTP/2 origin (`/p2`). Every case
 * asserts what the answer must be AND that the three protocols give the same status, headers,
 * body and trailers. Each request is bounded (TriClient, 15 s).
 *
 * Justified protocol differences, left out of the comparison:
 *  - the values of `date` (the clock) and `x-request-id` (unique per request); both must be
 *    present on every answer of every protocol, local replies included;
 *  - HTTP/1.1 framing headers `connection`, `keep-alive`, `transfer-encoding`: connection-
 *    specific, forbidden on HTTP/2 and HTTP/3 (RFC 9113 §8.2.2, RFC 9114 §4.2);
 *  - trailers over HTTP/1.1 travel only in chunked encoding and only to a client that sent
 *    `TE: trailers` (RFC 9110 §6.5.1): TriClient always sends it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureSelfSignedCert } from './harness/certs.ts';
import { DataPlane } from './harness/data-plane.ts';
import { freePort } from './harness/free-port.ts';
import { patternBytes } from './harness/origins.ts';
import { GET_BODY, PARITY_TRAILERS, type ParityOrigin, startParityH1Origin, startParityH2Origin } from './harness/parity-origin.ts';
import type { SpawnedProcess } from './harness/spawned-process.ts';
import { PROTOCOLS, type Protocol, TriClient, type TriRequest, type TriResponse } from './harness/tri-client.ts';

const MiB = 1024 * 1024;
const NOT_COMPARED = new Set(['date', 'x-request-id', 'connection', 'keep-alive', 'transfer-encoding']);

function comparable(res: TriResponse) {
  const headers: Record<string, string> = {};
  for (const name of Object.keys(res.headers).sort()) if (!NOT_COMPARED.has(name)) headers[name] = res.headers[name] as string;
  return { status: res.status, headers, body: res.body.toString('base64'), trailers: res.trailers };
}

interface Case {
  readonly name: string;
  readonly request: (prefix: string) => TriRequest;
  readonly check: (res: TriResponse, protocol: Protocol) => void;
}

const UPLOAD = patternBytes(2 * MiB + 17);

const CASES: readonly Case[] = [
  {
    name: 'GET',
    request: (p) => ({ path: `${p}/get` }),
    check: (res) => {
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), GET_BODY);
      assert.equal(res.headers['content-length'], String(GET_BODY.length));
      assert.equal(res.headers['x-case'], 'get');
    },
  },
  {
    name: 'HEAD: no body, content-length kept',
    request: (p) => ({ method: 'HEAD', path: `${p}/get` }),
    check: (res) => {
      assert.equal(res.status, 200);
      assert.equal(res.body.length, 0);
      assert.equal(res.headers['content-length'], String(GET_BODY.length));
    },
  },
  {
    name: '204 No Content',
    request: (p) => ({ path: `${p}/no-content` }),
    check: (res) => {
      assert.equal(res.status, 204);
      assert.equal(res.body.length, 0);
      assert.equal(res.headers['x-case'], 'no-content');
    },
  },
  {
    name: '304 Not Modified',
    request: (p) => ({ path: `${p}/not-modified`, headers: { 'if-none-match': '"v1"' } }),
    check: (res) => {
      assert.equal(res.status, 304);
      assert.equal(res.body.length, 0);
      assert.equal(res.headers['etag'], '"v1"');
    },
  },
  {
    name: 'response trailers',
    request: (p) => ({ path: `${p}/trailers` }),
    check: (res) => {
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), 'part one\npart two\n');
      assert.deepEqual(res.trailers, PARITY_TRAILERS);
    },
  },
  {
    name: 'large body (3 MiB)',
    request: (p) => ({ path: `${p}/big?size=${3 * MiB}`, timeoutMs: 30_000 }),
    check: (res) => {
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-length'], String(3 * MiB));
      assert.ok(res.body.equals(patternBytes(3 * MiB)), 'body bytes');
    },
  },
  {
    name: 'POST body (2 MiB) echoed',
    request: (p) => ({ method: 'POST', path: `${p}/echo`, headers: { 'content-type': 'application/x-parity' }, body: UPLOAD, timeoutMs: 30_000 }),
    check: (res) => {
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], 'application/x-parity');
      assert.ok(res.body.equals(UPLOAD), 'echoed bytes');
    },
  },
  {
    name: 'bad path (dot segment) → 400 with a spooky-reason',
    request: (p) => ({ path: `${p}/a/../get` }),
    check: (res) => {
      assert.equal(res.status, 400);
      assert.ok((res.headers['spooky-reason'] ?? '') !== '', 'spooky-reason set');
    },
  },
  {
    name: 'bad path (encoded slash) → 400 with a spooky-reason',
    request: (p) => ({ path: `${p}/a%2Fb/get` }),
    check: (res) => {
      assert.equal(res.status, 400);
      assert.ok((res.headers['spooky-reason'] ?? '') !== '', 'spooky-reason set');
    },
  },
  {
    name: 'unknown route → 404 no_route',
    request: () => ({ path: '/nowhere/get' }),
    check: (res) => {
      assert.equal(res.status, 404);
      assert.equal(res.headers['spooky-reason'], 'no_route');
    },
  },
];

describe('protocol parity: HTTP/3, HTTP/2 and HTTP/1.1 through one data plane', () => {
  let dir: string;
  let dp: SpawnedProcess;
  let h1: ParityOrigin;
  let h2: ParityOrigin;
  let client: TriClient;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spooky-parity-'));
    const cert = ensureSelfSignedCert(join(dir, 'certs'));
    h1 = await startParityH1Origin();
    h2 = await startParityH2Origin(cert);
    const port = await freePort();
    const path = join(dir, 'spooky.json');
    writeFileSync(
      path,
      JSON.stringify({
        version: 1,
        listen: { address: '127.0.0.1', port, tls: { cert: cert.cert, key: cert.key } },
        upstream_tls: { verify_certificates: true, ca_file: cert.cert },
        upstream: {
          one: { route: { path_prefix: '/p1' }, backends: [{ id: 'h1', address: h1.url }] },
          two: { route: { path_prefix: '/p2' }, backends: [{ id: 'h2', address: h2.url }] },
        },
      }),
    );
    ({ proc: dp } = await DataPlane.start({ config: path }));
    await dp.waitForLog((l) => l.msg === 'generation applied');
    client = new TriClient(port);
  });

  after(async () => {
    await client?.close();
    await dp?.stop();
    await h1?.close();
    await h2?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const upstream of ['/p1', '/p2'] as const) {
    const via = upstream === '/p1' ? 'HTTP/1.1 origin' : 'HTTP/2 origin';
    for (const c of CASES) {
      if (c.name.startsWith('unknown route') && upstream === '/p2') continue; // no upstream involved: once is enough
      test(`${c.name} (${via})`, async () => {
        const seen = new Map<Protocol, ReturnType<typeof comparable>>();
        for (const protocol of PROTOCOLS) {
          const res = await client.request(protocol, c.request(upstream));
          try {
            c.check(res, protocol);
            assert.match(String(res.headers['date']), /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/, 'a date header (IMF-fixdate)');
          } catch (err) {
            (err as Error).message = `${protocol}: ${(err as Error).message}`;
            throw err;
          }
          seen.set(protocol, comparable(res));
        }
        assert.deepEqual(seen.get('h2'), seen.get('h3'), 'HTTP/2 answers as HTTP/3');
        assert.deepEqual(seen.get('h1'), seen.get('h3'), 'HTTP/1.1 answers as HTTP/3');
      });
    }
  }
});
