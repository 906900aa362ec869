/**
 * 100 MiB bodies stream through the data plane without being held (issue 10, Streaming): one
 * standalone data plane in front of an HTTP/1.1 origin, an HTTP/3 client (the library's).
 *  - download: the origin writes 100 MiB with backpressure, the client counts what arrives;
 *  - upload: the client writes 100 MiB with backpressure, the origin counts what arrives and
 *    answers only at the end.
 * What the proxy holds is measured directly: at every chunk the receiver gets, the bytes the
 * sender has written minus the bytes received so far must stay under 64 MiB (a proxy that
 * prebuffered the body would hold ≈ 100 MiB). Byte counts must be exact both ways, so nothing
 * is lost or duplicated. The serving process's RSS is sampled too and bounded more loosely:
 * garbage Buffers are reclaimed lazily (V8 starts a GC for external memory only after it grew
 * by tens of MiB, more with gc-tuning.ts), so RSS rises by ≈ 100–170 MiB during a 140 MiB/s
 * transfer even though less than 10 MiB is ever in flight; the RSS bound catches a body held
 * twice or a leak, the in-flight bound catches prebuffering.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ClientHttp3Stream, Http3ClientSession } from '@currentspace/http3';
import { ensureSelfSignedCert } from './harness/certs.ts';
import { DataPlane } from './harness/data-plane.ts';
import { freePort } from './harness/free-port.ts';
import { connectH3, h3Request } from './harness/h3-client.ts';
import { RssProbe } from './harness/process-rss.ts';
import type { SpawnedProcess } from './harness/spawned-process.ts';

const MiB = 1024 * 1024;
const BODY_BYTES = 100 * MiB;
const IN_FLIGHT_LIMIT = 64 * MiB;
const RSS_GROWTH_LIMIT_MB = 256;
const CHUNK = Buffer.alloc(64 * 1024, 0x62);
const TRANSFER_BOUND_MS = 100_000; // two shared cores; a bound on a hang, never a synchronisation

/** Writes `total` bytes of CHUNKs to `w`, waiting for 'drain' whenever a write says so. */
function pump(w: { write(c: Buffer): boolean; once(e: 'drain', f: () => void): unknown; end(): unknown; destroyed: boolean }, total: number, p: Progress): void {
  let sent = 0;
  const go = (): void => {
    while (sent < total && !w.destroyed) {
      const n = Math.min(CHUNK.byteLength, total - sent);
      sent += n;
      p.written = sent;
      if (!w.write(n === CHUNK.byteLength ? CHUNK : CHUNK.subarray(0, n))) {
        w.once('drain', go);
        return;
      }
    }
    if (!w.destroyed) w.end();
  };
  go();
}

/** Bytes written by the sender and received by the receiver so far, and the largest gap seen. */
interface Progress {
  written: number;
  received: number;
  maxInFlight: number;
}

const progress = (): Progress => ({ written: 0, received: 0, maxInFlight: 0 });

function received(p: Progress, bytes: number): void {
  p.received += bytes;
  p.maxInFlight = Math.max(p.maxInFlight, p.written - p.received);
}

/** GET /down streams BODY_BYTES; POST /up counts the body and answers `{bytes}` at its end. */
function bulkOrigin() {
  const sockets = new Set<Socket>();
  /** The current transfer's progress; the test sets a fresh one before each transfer. */
  const state = { progress: progress() };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'POST') {
      let bytes = 0;
      req.on('data', (c: Buffer) => {
        bytes += c.byteLength;
        received(state.progress, c.byteLength);
      });
      req.on('error', () => {});
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ bytes }));
      });
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(BODY_BYTES) });
    pump(res, BODY_BYTES, state.progress);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return { server, sockets, state };
}

/** Resolves with the status and byte count of a response read as it streams (nothing kept). */
function countResponse(stream: ClientHttp3Stream, what: string, p?: Progress): Promise<{ status: number; bytes: number; body: string }> {
  return new Promise((resolve, reject) => {
    let status = 0;
    let bytes = 0;
    let head = '';
    const timer = setTimeout(() => {
      stream.destroy();
      reject(new Error(`${what}: not finished within ${TRANSFER_BOUND_MS} ms (${bytes} bytes)`));
    }, TRANSFER_BOUND_MS);
    stream.on('response', (h: Record<string, string | string[]>) => {
      status = Number(h[':status']);
    });
    stream.on('data', (c: Buffer) => {
      bytes += c.byteLength;
      if (p) received(p, c.byteLength);
      if (head.length < 256) head += c.toString('latin1', 0, Math.min(c.byteLength, 256));
    });
    stream.on('end', () => {
      clearTimeout(timer);
      resolve({ status, bytes, body: head });
    });
    stream.on('error', (err: Error) => {
      clearTimeout(timer);
      reject(new Error(`${what}: ${err.message}`));
    });
  });
}

describe('100 MiB bodies stream through the data plane (HTTP/3 client, HTTP/1.1 origin)', () => {
  let dir: string;
  let dp: SpawnedProcess;
  let port: number;
  let session: Http3ClientSession;
  const origin = bulkOrigin();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spooky-large-bodies-'));
    const cert = ensureSelfSignedCert(join(dir, 'certs'));
    await new Promise<void>((resolve) => origin.server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(origin.server.address() as AddressInfo).port}`;
    port = await freePort();
    const path = join(dir, 'spooky.json');
    writeFileSync(
      path,
      JSON.stringify({
        version: 1,
        listen: { address: '127.0.0.1', port, tls: { cert: cert.cert, key: cert.key } },
        upstream: { bulk: { route: { path_prefix: '/' }, backends: [{ id: 'bulk', address: url }] } },
        // Only the bodies' streaming is under test: no whole-request deadline or body cap in the way.
        performance: { request_timeout_ms: 300_000, max_request_body_bytes: 2 * BODY_BYTES },
      }),
    );
    ({ proc: dp } = await DataPlane.start({ config: path }));
    await dp.waitForLog((l) => l.msg === 'generation applied');
    session = await connectH3(port);
    // Warm the path (connection pools, JIT) so the baseline is a serving process, not a cold one.
    for (let i = 0; i < 5; i++) await h3Request(session, port, { method: 'POST', path: '/up', body: CHUNK });
  });

  after(async () => {
    await session?.close().catch(() => {});
    await dp?.stop();
    for (const s of origin.sockets) s.destroy();
    await new Promise<void>((resolve) => origin.server.close(() => resolve()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Runs `transfer` while sampling RSS; asserts the bytes in flight and the RSS growth. */
  async function withinMemoryBound(t: { diagnostic(m: string): void }, what: string, p: Progress, transfer: () => Promise<void>): Promise<void> {
    const baseline = new RssProbe(dp.child.pid as number, 50);
    const baseMB = baseline.stop().maxMB;
    const probe = new RssProbe(dp.child.pid as number, 50);
    const startedAt = performance.now();
    try {
      await transfer();
    } finally {
      const { maxMB, samples } = probe.stop();
      const secs = (performance.now() - startedAt) / 1000;
      const inFlightMB = (p.maxInFlight / MiB).toFixed(1);
      t.diagnostic(`${what}: at most ${inFlightMB} MiB in flight; RSS ${baseMB} → peak ${maxMB} MiB (+${maxMB - baseMB}) over ${samples} samples, ${(100 / secs).toFixed(1)} MiB/s`);
      assert.ok(p.maxInFlight < IN_FLIGHT_LIMIT, `${what}: ${inFlightMB} MiB were in flight at once (limit 64): the body was buffered`);
      assert.ok(samples >= 3, 'RSS was sampled during the transfer');
      assert.ok(maxMB - baseMB < RSS_GROWTH_LIMIT_MB, `${what}: RSS grew by ${maxMB - baseMB} MiB (limit ${RSS_GROWTH_LIMIT_MB})`);
    }
  }

  test('download: 100 MiB arrive whole, < 64 MiB in flight at any time', async (t) => {
    const p = progress();
    origin.state.progress = p;
    await withinMemoryBound(t, 'download', p, async () => {
      const stream = await session.requestAsync({ ':method': 'GET', ':scheme': 'https', ':authority': `localhost:${port}`, ':path': '/down' }, { endStream: true });
      const got = await countResponse(stream, 'download', p);
      assert.equal(got.status, 200);
      assert.equal(got.bytes, BODY_BYTES, 'every byte arrived, none twice');
    });
  });

  test('upload: 100 MiB reach the origin whole, < 64 MiB in flight at any time', async (t) => {
    const p = progress();
    origin.state.progress = p;
    await withinMemoryBound(t, 'upload', p, async () => {
      const stream = await session.requestAsync(
        { ':method': 'POST', ':scheme': 'https', ':authority': `localhost:${port}`, ':path': '/up', 'content-type': 'application/octet-stream' },
        { endStream: false },
      );
      const answer = countResponse(stream, 'upload');
      pump(stream, BODY_BYTES, p);
      const got = await answer;
      assert.equal(got.status, 200);
      assert.deepEqual(JSON.parse(got.body), { bytes: BODY_BYTES }, 'the origin counted every byte');
    });
  });
});
