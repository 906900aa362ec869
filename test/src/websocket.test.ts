/**
 * WebSocket over the TLS TCP listener and the CONNECT policy (issue 10): standalone data
 * planes in front of a hand-written RFC 6455 origin (harness/websocket.ts), driven by a
 * hand-written client over real TLS.
 *
 * - An HTTP/1.1 `Upgrade: websocket` is routed like any request, answered with the origin's
 *   101 (Sec-WebSocket-Accept of the client's key), and masked frames echo both ways (7-,
 *   16- and 64-bit lengths); one access-log line with status 101 and the bytes both ways.
 * - `performance.tunnel_idle_timeout_ms` closes both sides of a silent tunnel.
 * - The origin closing (close frame + FIN) closes the client; a client reset closes the
 *   origin's connection; an origin refusing the upgrade (403) is relayed as a response.
 * - CONNECT: `resilience.protocol.allow_connect: true` tunnels an HTTP/1.1 CONNECT to the
 *   routed backend's host:port; false (default) answers 405 on HTTP/1.1 and HTTP/2.
 * The data plane keeps serving throughout (no uncaught error: SpawnedProcess.stop checks).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as h2Connect } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type CertFiles, ensureSelfSignedCert } from './harness/certs.ts';
import { DataPlane } from './harness/data-plane.ts';
import { freePort } from './harness/free-port.ts';
import { rawTls } from './harness/raw-tls.ts';
import type { SpawnedProcess } from './harness/spawned-process.ts';
import { acceptFor, encodeFrame, type Frame, FrameReader, h2ResponseHead, OP, startWebSocketOrigin, WebSocketClient, type WebSocketOrigin } from './harness/websocket.ts';

const IDLE_MS = 2500;
const SLACK_MS = 5000; // two shared cores: scheduling slack, not a synchronisation

interface Plane {
  readonly port: number;
  readonly dp: SpawnedProcess;
}

const DRAIN_MS = 1000;

async function startPlane(dir: string, cert: CertFiles, origin: WebSocketOrigin, tlsOrigin: WebSocketOrigin, extra: Record<string, unknown>): Promise<Plane> {
  const port = await freePort();
  const deadPort = await freePort(); // bound and released: nothing listens there
  const path = join(dir, `spooky-${port}.json`);
  writeFileSync(
    path,
    JSON.stringify({
      version: 1,
      listen: { address: '127.0.0.1', port, tls: { cert: cert.cert, key: cert.key } },
      upstream: {
        ws: { route: { path_prefix: '/ws' }, backends: [{ id: 'o', address: origin.url }] },
        rest: { route: { path_prefix: '/' }, backends: [{ id: 'o', address: origin.url }] },
        dead: { route: { path_prefix: '/dead' }, backends: [{ id: 'gone', address: `http://127.0.0.1:${deadPort}` }] },
        wss: { route: { path_prefix: '/wss' }, backends: [{ id: 'tls', address: tlsOrigin.url }] },
      },
      upstream_tls: { ca_file: cert.cert },
      ...extra,
    }),
  );
  const { proc } = await DataPlane.start({ config: path, extra: ['--drain-timeout-ms', String(DRAIN_MS)] });
  await proc.waitForLog((l) => l.msg === 'generation applied');
  return { port, dp: proc };
}

describe('WebSocket and CONNECT tunnels over the TLS TCP listener', () => {
  let dir: string;
  let cert: CertFiles;
  let origin: WebSocketOrigin;
  let tlsOrigin: WebSocketOrigin;
  let plane: Plane;
  let strict: Plane;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spooky-websocket-'));
    cert = ensureSelfSignedCert(join(dir, 'certs'));
    origin = await startWebSocketOrigin();
    tlsOrigin = await startWebSocketOrigin(cert);
    plane = await startPlane(dir, cert, origin, tlsOrigin, {
      // The connection's own HTTP/1.1 timers are far shorter than the tunnel's idle bound.
      performance: { tunnel_idle_timeout_ms: IDLE_MS, client_header_timeout_ms: 1000, client_idle_timeout_ms: 1000 },
      resilience: { protocol: { allow_connect: true } },
    });
    strict = await startPlane(dir, cert, origin, tlsOrigin, {});
  });

  after(async () => {
    await plane?.dp.stop();
    await strict?.dp.stop();
    await origin?.close();
    await tlsOrigin?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('upgrade relayed: 101 with the origin Accept, frames echo both ways, one access-log line (101)', async () => {
    const ws = await WebSocketClient.open(plane.port, '/ws/echo?room=1', { 'sec-websocket-protocol': 'chat, superchat', origin: 'https://example.test' });
    try {
      assert.equal(ws.status, 101);
      assert.equal(ws.headers['sec-websocket-accept'], acceptFor(ws.key), 'the origin answered the client key');
      assert.equal(ws.headers['upgrade']?.toLowerCase(), 'websocket');
      assert.equal(ws.headers['sec-websocket-protocol'], 'chat');
      assert.equal(ws.headers['x-origin'], 'ws');
      const seen = origin.upgrades.at(-1);
      assert.equal(seen?.url, '/ws/echo?room=1', 'target forwarded unchanged');
      assert.equal(seen?.headers['sec-websocket-key'], ws.key);
      assert.equal(seen?.headers['x-forwarded-for'], '127.0.0.1');
      assert.equal(seen?.headers['origin'], 'https://example.test');

      const messages = [Buffer.from('hello'), Buffer.alloc(300, 0x62), Buffer.alloc(70_000, 0x63)];
      for (const [i, m] of messages.entries()) ws.send(i === 0 ? OP.TEXT : OP.BINARY, m);
      const echoed = await ws.next(messages.length, SLACK_MS);
      assert.ok(echoed, 'every message echoed');
      assert.deepEqual(
        echoed.map((f) => [f.opcode, f.payload.length]),
        [
          [OP.TEXT, 5],
          [OP.BINARY, 300],
          [OP.BINARY, 70_000],
        ],
      );
      assert.ok(echoed.every((f, i) => f.payload.equals(messages[i] as Buffer)), 'payloads intact');
      ws.send(OP.PING, 'p');
      const pong = await ws.next(1, SLACK_MS);
      assert.equal(pong?.[0]?.opcode, OP.PONG);

      const code = Buffer.alloc(2);
      code.writeUInt16BE(1000);
      ws.send(OP.CLOSE, code);
      const closing = await ws.next(1, SLACK_MS);
      assert.equal(closing?.[0]?.opcode, OP.CLOSE, 'the close handshake crossed the proxy');
      assert.ok(await ws.waitClosed(SLACK_MS), 'the origin ended the connection and the proxy passed it on');
      const line = await plane.dp.waitForLog((l) => l.msg === 'request' && l['path'] === '/ws/echo?room=1', SLACK_MS);
      assert.equal(line['status'], 101);
      assert.equal(line['method'], 'GET');
      assert.equal(line['upstream'], 'ws');
      assert.equal(line['backend'], 'o');
      assert.equal(line['outcome'], 'ok');
      assert.ok(Number(line['bytesIn']) > 70_000, `bytesIn ${line['bytesIn']}`);
      assert.ok(Number(line['bytesOut']) > 70_000, `bytesOut ${line['bytesOut']}`);
    } finally {
      ws.destroy();
    }
  });

  test('HTTP/2 (RFC 8441 extended CONNECT): 200, frames echo both ways, the origin got a full RFC 6455 handshake', async () => {
    const session = h2Connect(`https://127.0.0.1:${plane.port}`, { rejectUnauthorized: false, servername: 'localhost' });
    session.on('error', () => {});
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no SETTINGS')), SLACK_MS);
        session.once('remoteSettings', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      assert.equal(session.remoteSettings.enableConnectProtocol, true, 'SETTINGS_ENABLE_CONNECT_PROTOCOL advertised');
      const stream = session.request({
        ':method': 'CONNECT',
        ':protocol': 'websocket',
        ':scheme': 'https',
        ':path': '/ws/echo-h2?x=1',
        ':authority': `localhost:${plane.port}`,
        'sec-websocket-version': '13',
        'sec-websocket-protocol': 'chat',
      });
      stream.on('error', () => {});
      const head = await h2ResponseHead(stream, SLACK_MS);
      assert.equal(head[':status'], 200);
      assert.equal(head['sec-websocket-protocol'], 'chat');
      assert.equal(head['sec-websocket-accept'], undefined, 'no Accept on HTTP/2');
      const seen = origin.upgrades.at(-1);
      assert.equal(seen?.url, '/ws/echo-h2?x=1');
      assert.equal(typeof seen?.headers['sec-websocket-key'], 'string', 'the proxy made up the key the origin needs');
      assert.equal(seen?.headers['sec-websocket-version'], '13');

      const reader = new FrameReader();
      const frames: Frame[] = [];
      let ended = false;
      const waiters = new Set<() => void>();
      stream.on('data', (chunk: Buffer) => {
        frames.push(...reader.push(chunk));
        for (const w of waiters) w();
      });
      stream.once('close', () => {
        ended = true;
        for (const w of waiters) w();
      });
      const until = (ok: () => boolean): Promise<boolean> =>
        new Promise((resolve) => {
          const check = (): void => {
            if (!ok() && !ended) return;
            clearTimeout(timer);
            waiters.delete(check);
            resolve(ok());
          };
          const timer = setTimeout(() => {
            waiters.delete(check);
            resolve(ok());
          }, SLACK_MS);
          waiters.add(check);
          check();
        });
      const big = Buffer.alloc(200_000, 0x64);
      stream.write(encodeFrame(OP.TEXT, Buffer.from('over h2'), true));
      stream.write(encodeFrame(OP.BINARY, big, true));
      assert.ok(await until(() => frames.length >= 2), `echoes (${frames.length})`);
      assert.equal(frames[0]?.payload.toString(), 'over h2');
      assert.ok(frames[1]?.payload.equals(big), 'a 200 kB frame crossed HTTP/2 flow control both ways');
      const code = Buffer.alloc(2);
      code.writeUInt16BE(1000);
      stream.write(encodeFrame(OP.CLOSE, code, true));
      assert.ok(await until(() => frames.length >= 3 && ended), 'close echoed, then the stream closed');
      assert.equal(frames[2]?.opcode, OP.CLOSE);
      const line = await plane.dp.waitForLog((l) => l.msg === 'request' && l['path'] === '/ws/echo-h2?x=1', SLACK_MS);
      assert.equal(line['status'], 200);
      assert.equal(line['method'], 'CONNECT');
      assert.equal(line['protocol'], 'h2');
      assert.equal(line['outcome'], 'ok', 'closed by the origin, not by the idle bound');
      assert.equal(line['upstream'], 'ws');
      assert.ok(Number(line['bytesIn']) > 200_000 && Number(line['bytesOut']) > 200_000, `bytes ${line['bytesIn']} / ${line['bytesOut']}`);
    } finally {
      session.destroy();
    }
  });

  test('an https:// backend: the tunnel is TLS (ALPN http/1.1, verified with upstream_tls.ca_file)', async () => {
    const ws = await WebSocketClient.open(plane.port, '/wss/echo');
    try {
      assert.equal(ws.status, 101);
      assert.equal(ws.headers['sec-websocket-accept'], acceptFor(ws.key));
      assert.equal(tlsOrigin.upgrades.at(-1)?.url, '/wss/echo');
      assert.equal((tlsOrigin.upgrades.at(-1)?.socket as { encrypted?: boolean } | undefined)?.encrypted, true);
      ws.send(OP.TEXT, 'secret');
      assert.equal((await ws.next(1, SLACK_MS))?.[0]?.payload.toString(), 'secret');
    } finally {
      ws.destroy();
    }
  });

  test('a silent tunnel is closed on both sides after tunnel_idle_timeout_ms', async () => {
    const before = origin.upgrades.length;
    const ws = await WebSocketClient.open(plane.port, '/ws/echo-idle');
    try {
      assert.equal(ws.status, 101);
      await origin.until(() => origin.upgrades.length > before, SLACK_MS);
      const openedAt = performance.now();
      ws.send(OP.TEXT, 'one message, then silence');
      assert.ok(await ws.next(1, SLACK_MS));
      assert.ok(await ws.waitClosed(IDLE_MS + SLACK_MS), 'the proxy closed the client side');
      const heldMs = performance.now() - openedAt;
      assert.ok(heldMs >= IDLE_MS - 100, `closed after ${heldMs.toFixed(0)} ms, not before the idle bound`);
      assert.ok(await origin.until(() => origin.sockets.size === 0, SLACK_MS), `the origin side was closed too (${origin.sockets.size} open)`);
      const line = await plane.dp.waitForLog((l) => l.msg === 'request' && l['path'] === '/ws/echo-idle', SLACK_MS);
      assert.equal(line['status'], 101);
      assert.equal(line['outcome'], 'timeout:tunnel_idle');
    } finally {
      ws.destroy();
    }
  });

  test('a live tunnel outlives the connection timers (client_header / client_idle 1 s): 8 messages over ~3.2 s', async () => {
    const ws = await WebSocketClient.open(plane.port, '/ws/echo-live');
    try {
      assert.equal(ws.status, 101);
      for (let i = 0; i < 8; i++) {
        ws.send(OP.TEXT, `tick ${i}`);
        const echoed = await ws.next(1, SLACK_MS);
        assert.equal(echoed?.[0]?.payload.toString(), `tick ${i}`);
        await new Promise((resolve) => setTimeout(resolve, 400)); // pacing the traffic, not a synchronisation
      }
      assert.equal(ws.closed, false);
    } finally {
      ws.destroy();
    }
  });

  test('the origin closing (close frame + FIN) closes the client; a client reset closes the origin side', async () => {
    const ws = await WebSocketClient.open(plane.port, '/ws/bye');
    try {
      assert.equal(ws.status, 101);
      ws.send(OP.TEXT, 'last words');
      const frames = await ws.next(2, SLACK_MS);
      assert.deepEqual(frames?.map((f) => f.opcode), [OP.TEXT, OP.CLOSE]);
      assert.ok(await ws.waitClosed(SLACK_MS), 'client connection closed after the origin left');
    } finally {
      ws.destroy();
    }

    const reset = await WebSocketClient.open(plane.port, '/ws/echo-reset');
    assert.equal(reset.status, 101);
    reset.send(OP.TEXT, 'x');
    assert.ok(await reset.next(1, SLACK_MS));
    assert.ok(origin.sockets.size >= 1);
    reset.destroy(); // gone without a close frame
    assert.ok(await origin.until(() => origin.sockets.size === 0, SLACK_MS), 'the origin connection closed after the client reset');
  });

  test('an origin refusing the upgrade: its 403 is relayed as a complete response', async () => {
    const ws = await WebSocketClient.open(plane.port, '/ws/refuse');
    try {
      assert.equal(ws.status, 403);
      assert.equal(ws.headers['x-origin'], 'refused');
      assert.equal(ws.headers['connection'], 'close');
      assert.ok(await ws.until(() => ws.body.toString() === 'nope!\r\n', SLACK_MS), `body ${JSON.stringify(ws.body.toString())}`);
      assert.ok(await ws.waitClosed(SLACK_MS));
      const line = await plane.dp.waitForLog((l) => l.msg === 'request' && l['path'] === '/ws/refuse', SLACK_MS);
      assert.equal(line['status'], 403);
    } finally {
      ws.destroy();
    }
  });

  test('failures before the 101 are local answers, the connection closes, the process stays up', async () => {
    const dead = await WebSocketClient.open(plane.port, '/dead/ws');
    assert.equal(dead.status, 502, 'backend down');
    assert.equal(dead.headers['spooky-reason'], 'upstream_connect_failed');
    assert.ok(await dead.waitClosed(SLACK_MS));
    const garbage = await WebSocketClient.open(plane.port, '/ws/garbage');
    assert.equal(garbage.status, 502, 'backend answered no HTTP');
    assert.equal(garbage.headers['spooky-reason'], 'upstream_protocol_error');
    assert.ok(await garbage.waitClosed(SLACK_MS));
    // HTTP/1.1 clients check the Accept themselves (it is relayed); an HTTP/2 client cannot, so the proxy does.
    const relayed = await WebSocketClient.open(plane.port, '/ws/bad-accept');
    assert.equal(relayed.status, 101);
    assert.equal(relayed.headers['sec-websocket-accept'], 'AAAA');
    relayed.destroy();
    const session = h2Connect(`https://127.0.0.1:${plane.port}`, { rejectUnauthorized: false, servername: 'localhost' });
    session.on('error', () => {});
    try {
      await new Promise<void>((resolve) => session.once('remoteSettings', () => resolve()));
      const statusOf = async (path: string): Promise<{ status: unknown; reason: unknown }> => {
        const stream = session.request({ ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'https', ':path': path, ':authority': 'localhost', 'sec-websocket-version': '13' });
        stream.on('error', () => {});
        const h = await h2ResponseHead(stream, SLACK_MS, `no answer for ${path}`);
        stream.close();
        return { status: h[':status'], reason: h['spooky-reason'] ?? h['x-origin'] };
      };
      assert.deepEqual(await statusOf('/ws/bad-accept'), { status: 502, reason: 'upstream_protocol_error' });
      assert.deepEqual(await statusOf('/ws/refuse'), { status: 403, reason: 'refused' });
      assert.deepEqual(await statusOf('/dead/ws'), { status: 502, reason: 'upstream_connect_failed' });
    } finally {
      session.destroy();
    }
  });

  test('a non-WebSocket Upgrade (h2c): 400 bad_upgrade, connection closed', async () => {
    const conn = await rawTls(plane.port);
    try {
      conn.write(`GET / HTTP/1.1\r\nhost: localhost\r\nupgrade: h2c\r\nconnection: upgrade\r\n\r\n`);
      assert.ok(await conn.waitClosed(SLACK_MS));
      assert.deepEqual(conn.statuses(), [400]);
      assert.match(conn.received.toString('latin1'), /spooky-reason: bad_upgrade/);
    } finally {
      conn.destroy();
    }
  });

  test('allow_connect: true tunnels an HTTP/1.1 CONNECT to the routed backend', async () => {
    const conn = await rawTls(plane.port);
    try {
      conn.write('CONNECT origin.test:80 HTTP/1.1\r\nhost: origin.test:80\r\n\r\n');
      assert.ok(await conn.waitUntil(() => conn.statuses().length > 0, SLACK_MS));
      assert.deepEqual(conn.statuses(), [200]);
      conn.write('GET /through-the-tunnel HTTP/1.1\r\nhost: origin.test\r\nconnection: close\r\n\r\n');
      assert.ok(await conn.waitClosed(SLACK_MS), 'the origin closed its answer, the tunnel closed');
      assert.deepEqual(conn.statuses(), [200, 200]);
      assert.match(conn.received.toString('latin1'), /plain origin answer/);
      const line = await plane.dp.waitForLog((l) => l.msg === 'request' && l['method'] === 'CONNECT' && l['protocol'] === 'http/1.1', SLACK_MS);
      assert.equal(line['status'], 200);
      assert.equal(line['upstream'], 'rest');
    } finally {
      conn.destroy();
    }
  });

  test('allow_connect: false (default) answers an HTTP/1.1 CONNECT with 405; HTTP/2 CONNECT is refused too', async () => {
    const conn = await rawTls(strict.port);
    try {
      conn.write('CONNECT origin.test:443 HTTP/1.1\r\nhost: origin.test:443\r\n\r\n');
      assert.ok(await conn.waitClosed(SLACK_MS));
      assert.deepEqual(conn.statuses(), [405]);
      assert.match(conn.received.toString('latin1'), /spooky-reason: method_not_allowed/);
    } finally {
      conn.destroy();
    }
    // HTTP/2 CONNECT carries no :scheme / :path (RFC 9113 §8.5): the HTTP/2 head parser refuses it
    // (400 pseudo_header_missing) before screening; never tunnelled.
    const session = h2Connect(`https://127.0.0.1:${strict.port}`, { rejectUnauthorized: false, servername: 'localhost' });
    session.on('error', () => {});
    try {
      const stream = session.request({ ':method': 'CONNECT', ':authority': 'origin.test:443' });
      stream.on('error', () => {});
      const head = await h2ResponseHead(stream, SLACK_MS);
      assert.equal(head[':status'], 400);
      assert.equal(head['spooky-reason'], 'pseudo_header_missing');
      stream.close();
    } finally {
      session.destroy();
    }
  });

  test('the data plane still serves plain requests on both listeners', async () => {
    for (const p of [plane, strict]) {
      const conn = await rawTls(p.port);
      try {
        conn.write('GET /plain HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n');
        assert.ok(await conn.waitClosed(SLACK_MS));
        assert.deepEqual(conn.statuses(), [200]);
      } finally {
        conn.destroy();
      }
    }
  });

  test('SIGTERM with an open WebSocket: the tunnel holds the drain, then both sides close and the process exits 0', async () => {
    const ws = await WebSocketClient.open(plane.port, '/ws/echo-shutdown');
    try {
      assert.equal(ws.status, 101);
      ws.send(OP.TEXT, 'still here');
      assert.ok(await ws.next(1, SLACK_MS));
      const startedAt = performance.now();
      const code = await plane.dp.stop(DRAIN_MS + SLACK_MS + 5000);
      const tookMs = performance.now() - startedAt;
      assert.equal(code, 0, 'clean exit, not the worker hard stop');
      assert.ok(tookMs >= DRAIN_MS - 100, `exited after ${tookMs.toFixed(0)} ms: the drain was honoured`);
      assert.ok(await ws.waitClosed(SLACK_MS), 'the client side was closed');
      assert.ok(await origin.until(() => origin.sockets.size === 0, SLACK_MS), 'the origin side was closed');
      const line = plane.dp.lines.find((l) => l.msg === 'request' && l['path'] === '/ws/echo-shutdown');
      assert.equal(line?.['status'], 101, 'its access-log line was written before exit');
    } finally {
      ws.destroy();
    }
  });
});
