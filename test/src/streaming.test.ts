/**
 * Streaming through the data plane (issue 10): responses flow as the origin produces them, and
 * gRPC works end to end. One standalone data plane, an HTTP/3 client (the library's):
 *  - server-sent events from an HTTP/1.1 and an HTTP/2 origin: the first event reaches the
 *    client while the origin still holds the rest (its Gate is closed: no prebuffering);
 *  - gRPC to a real @grpc/grpc-js server behind an `https://` backend (H3 → H2): unary OK,
 *    unary error (grpc-js answers trailers-only: grpc-status in the response head), server
 *    streaming with each message arriving before the stream ends, and a non-zero status with a
 *    message in real trailers after streamed messages.
 * Frames are built by hand (5-byte prefix + protobuf bytes, harness/grpc-origin.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Http3ClientSession } from '@currentspace/http3';
import { ensureSelfSignedCert } from './harness/certs.ts';
import { DataPlane } from './harness/data-plane.ts';
import { freePort } from './harness/free-port.ts';
import { type GrpcOrigin, grpcFrame, grpcMessage, grpcText, grpcUnframe, startGrpcOrigin } from './harness/grpc-origin.ts';
import { connectH3 } from './harness/h3-client.ts';
import { openH3Stream } from './harness/h3-stream-reader.ts';
import type { SpawnedProcess } from './harness/spawned-process.ts';
import { SSE_FIRST, SSE_SECOND, type SseOrigin, startSseOrigin } from './harness/sse-origin.ts';

const BOUND_MS = 15_000; // two shared cores: generous, and never a synchronisation

describe('streaming through the data plane (HTTP/3 client)', () => {
  let dir: string;
  let dp: SpawnedProcess;
  let port: number;
  let sseH1: SseOrigin;
  let sseH2: SseOrigin;
  let grpc: GrpcOrigin;
  let session: Http3ClientSession;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spooky-streaming-'));
    const cert = ensureSelfSignedCert(join(dir, 'certs'));
    sseH1 = await startSseOrigin();
    sseH2 = await startSseOrigin(cert);
    grpc = await startGrpcOrigin(cert);
    port = await freePort();
    const path = join(dir, 'spooky.json');
    writeFileSync(
      path,
      JSON.stringify({
        version: 1,
        listen: { address: '127.0.0.1', port, tls: { cert: cert.cert, key: cert.key } },
        upstream_tls: { verify_certificates: true, ca_file: cert.cert },
        upstream: {
          sse1: { route: { path_prefix: '/sse1' }, backends: [{ id: 'sse-h1', address: sseH1.url }] },
          sse2: { route: { path_prefix: '/sse2' }, backends: [{ id: 'sse-h2', address: sseH2.url }] },
          grpc: { route: { path_prefix: '/spooky.test.Echo' }, backends: [{ id: 'grpc', address: grpc.url }] },
        },
      }),
    );
    ({ proc: dp } = await DataPlane.start({ config: path }));
    await dp.waitForLog((l) => l.msg === 'generation applied');
    session = await connectH3(port);
  });

  after(async () => {
    await session?.close().catch(() => {});
    await dp?.stop();
    await sseH1?.close();
    await sseH2?.close();
    await grpc?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const get = (path: string): Record<string, string> => ({ ':method': 'GET', ':scheme': 'https', ':authority': `localhost:${port}`, ':path': path, accept: 'text/event-stream' });

  for (const [prefix, name] of [['/sse1', 'HTTP/1.1'], ['/sse2', 'HTTP/2']] as const) {
    test(`SSE from an ${name} origin: the first event arrives before the origin finishes`, async () => {
      const origin = prefix === '/sse1' ? sseH1 : sseH2;
      const before = origin.gates.length;
      const r = await openH3Stream(session, get(`${prefix}/events`));
      await r.waitFor((x) => x.data.toString().includes(SSE_FIRST), BOUND_MS, 'first event');
      const gate = origin.gates[before];
      assert.ok(gate, 'the origin got the request');
      assert.equal(gate.isOpen, false, 'the origin still holds the second event');
      assert.equal(r.ended, false, 'the response is still open');
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-type'], 'text/event-stream');
      assert.equal(r.data.toString(), SSE_FIRST, 'exactly the first event so far');
      gate.open();
      await r.waitFor((x) => x.ended, BOUND_MS, 'the end of the stream');
      assert.equal(r.data.toString(), SSE_FIRST + SSE_SECOND);
    });
  }

  const grpcCall = (method: string, text: string) =>
    openH3Stream(
      session,
      { ':method': 'POST', ':scheme': 'https', ':authority': `localhost:${port}`, ':path': `/spooky.test.Echo/${method}`, 'content-type': 'application/grpc', te: 'trailers' },
      grpcFrame(grpcMessage(text)),
    );
  const messagesOf = (data: Buffer): string[] => grpcUnframe(data).messages.map(grpcText);

  test('gRPC unary through H3 → H2: the answer, then grpc-status 0 in trailers', async () => {
    const r = await grpcCall('Unary', 'hello');
    await r.waitFor((x) => x.ended, BOUND_MS, 'the unary answer');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/grpc+proto');
    assert.deepEqual(messagesOf(r.data), ['echo:hello']);
    assert.equal(grpcUnframe(r.data).used, r.data.length, 'nothing but whole frames');
    assert.equal(r.trailers?.['grpc-status'], '0');
  });

  test('gRPC unary error: a non-zero grpc-status with its grpc-message (trailers-only)', async () => {
    const r = await grpcCall('Unary', 'fail');
    await r.waitFor((x) => x.ended, BOUND_MS, 'the unary error');
    assert.equal(r.status, 200);
    assert.equal(r.data.length, 0, 'no message');
    // grpc-js sends an error before any message as one HEADERS frame with END_STREAM: the
    // status is in the head; a relay must keep it there.
    assert.equal(r.trailers, null, 'no separate trailers: the head was the end');
    assert.equal(r.headers['grpc-status'], '5');
    assert.equal(decodeURIComponent(String(r.headers['grpc-message'])), 'no such thing: fail');
  });

  for (const [text, code, message] of [['ok', '0', undefined], ['fail', '10', 'stopped after two']] as const) {
    test(`gRPC server streaming: each message arrives before the stream ends, then grpc-status ${code} in trailers`, async () => {
      const before = grpc.gates.length;
      const r = await grpcCall('Stream', text);
      await r.waitFor((x) => messagesOf(x.data).length >= 1, BOUND_MS, 'the first streamed message');
      const gate = grpc.gates[before];
      assert.ok(gate, 'the server got the call');
      assert.equal(gate.isOpen, false, 'the server still holds the second message');
      assert.equal(r.ended, false);
      assert.equal(r.status, 200);
      assert.deepEqual(messagesOf(r.data), ['one']);
      gate.open();
      await r.waitFor((x) => x.ended, BOUND_MS, 'the end of the stream');
      assert.deepEqual(messagesOf(r.data), ['one', 'two']);
      assert.ok(r.trailers, 'trailers arrived');
      assert.equal(r.trailers['grpc-status'], code);
      if (message !== undefined) assert.equal(decodeURIComponent(String(r.trailers['grpc-message'])), message);
      assert.equal(r.headers['grpc-status'], undefined, 'the status is not in the head');
    });
  }
});
