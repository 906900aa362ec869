import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect as h2connect } from 'node:http2';
import { describe, it } from 'node:test';
import type { Exchange } from '../../http/exchange.ts';
import { h1Request, h2Request } from '../../testing/clients.ts';
import { closedWith, rawTcp, rawTls, recordingGuards, until, within } from '../../testing/connection-probes.ts';
import { openTestListener } from '../../testing/test-listener.ts';

async function ok(exchange: Exchange): Promise<void> {
  if (exchange.body) for await (const _ of exchange.body);
  exchange.response.sendHead(200, [['content-type', 'text/plain']], false);
  exchange.response.write(Buffer.from('ok'));
  exchange.response.end();
}

describe('TCP connection guard', () => {
  it('closes connections that never finish the TLS handshake, at the bound', async () => {
    const guards = recordingGuards({ tlsHandshakeTimeoutMs: 400 });
    const { listener, port } = await openTestListener(ok, guards);
    try {
      const started = performance.now();
      const silent = await Promise.all(Array.from({ length: 50 }, () => rawTcp(port)));
      await within(5000, 'silent connections closed', Promise.all(silent.map(closedWith)));
      const elapsed = performance.now() - started;
      assert.ok(elapsed >= 350, `closed after ${elapsed} ms, before the bound`);
      assert.equal(guards.closed.filter((r) => r === 'tls_handshake_timeout').length, 50);
      await until(2000, 'places released', () => guards.admission.active === 0);
      assert.equal((await h1Request(port, 'GET', '/')).status, 200, 'a real client is still served');
    } finally {
      await listener.close(0);
    }
  });

  it('cuts an HTTP/1.1 head sent a byte at a time at client_header_timeout_ms (408)', async () => {
    const guards = recordingGuards({ clientHeaderTimeoutMs: 1000 });
    const { listener, port } = await openTestListener(ok, guards);
    try {
      const socket = await rawTls(port, 'http/1.1');
      const started = performance.now();
      const closed = closedWith(socket);
      const head = 'GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: ' + 'a'.repeat(100);
      let i = 0;
      const drip = setInterval(() => {
        if (i < head.length && !socket.destroyed) socket.write(head[i++] as string);
      }, 50);
      try {
        const reply = await within(4000, 'slowloris cut', closed);
        const elapsed = performance.now() - started;
        assert.ok(elapsed >= 950 && elapsed < 3000, `cut after ${Math.round(elapsed)} ms`);
        assert.match(reply, /^HTTP\/1\.1 408/);
        assert.ok(i < head.length, 'the head never completed');
      } finally {
        clearInterval(drip);
      }
    } finally {
      await listener.close(0);
    }
  });

  it('closes an idle HTTP/1.1 keep-alive connection after client_idle_timeout_ms', async () => {
    const guards = recordingGuards({ clientIdleTimeoutMs: 500 });
    const { listener, port } = await openTestListener(ok, guards);
    try {
      const socket = await rawTls(port, 'http/1.1');
      const closed = closedWith(socket);
      socket.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
      const started = performance.now();
      const reply = await within(4000, 'idle keep-alive closed', closed);
      assert.match(reply, /^HTTP\/1\.1 200/);
      const elapsed = performance.now() - started;
      assert.ok(elapsed >= 450 && elapsed < 3000, `closed after ${Math.round(elapsed)} ms`);
    } finally {
      await listener.close(0);
    }
  });

  it('HTTP/2: a session with no stream, then one idle after its streams, is closed', async () => {
    const guards = recordingGuards({ clientHeaderTimeoutMs: 400, clientIdleTimeoutMs: 600 });
    const { listener, port } = await openTestListener(ok, guards);
    try {
      const silent = h2connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
      silent.on('error', () => {});
      await within(4000, 'stream-less h2 session closed', once(silent, 'close'));
      assert.deepEqual(guards.closed, ['no_stream_timeout']);

      const client = h2connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
      client.on('error', () => {});
      const req = client.request({ ':path': '/', ':authority': `localhost:${port}` });
      req.resume();
      await once(req, 'end');
      const started = performance.now();
      await within(4000, 'idle h2 session closed', once(client, 'close'));
      const elapsed = performance.now() - started;
      assert.ok(elapsed >= 500, `closed after ${Math.round(elapsed)} ms`);
      assert.deepEqual(guards.closed, ['no_stream_timeout', 'idle_timeout']);
    } finally {
      await listener.close(0);
    }
  });

  it('caps connections per client address, closing the extra ones at once', async () => {
    const guards = recordingGuards({ maxConnectionsPerIp: 3, maxActiveConnections: 100 });
    const { listener, port } = await openTestListener(ok, guards);
    try {
      const sockets = await Promise.all(Array.from({ length: 5 }, () => rawTcp(port)));
      const closes = sockets.map(closedWith);
      const settled = await within(3000, 'two refused', firstN(closes, 2));
      assert.equal(settled.length, 2);
      assert.deepEqual(guards.rejected, ['max_connections_per_ip', 'max_connections_per_ip']);
      assert.equal(guards.admission.activeFrom('127.0.0.1'), 3);
      for (const s of sockets) s.destroy();
      await within(3000, 'all closed', Promise.all(closes));
      await until(2000, 'places released', () => guards.admission.active === 0);
      assert.equal((await h2Request(port, 'GET', '/')).status, 200, 'places are released');
    } finally {
      await listener.close(0);
    }
  });

  it('caps connections in total and by rate', async () => {
    const capped = recordingGuards({ maxConnectionsPerIp: 100, maxActiveConnections: 2 });
    const a = await openTestListener(ok, capped);
    try {
      const sockets = await Promise.all(Array.from({ length: 3 }, () => rawTcp(a.port)));
      await within(3000, 'one refused', firstN(sockets.map(closedWith), 1));
      assert.deepEqual(capped.rejected, ['max_active_connections']);
      for (const s of sockets) s.destroy();
    } finally {
      await a.listener.close(0);
    }
    const rated = recordingGuards({ newConnectionsPerSec: 1, newConnectionsBurst: 3 });
    const b = await openTestListener(ok, rated);
    try {
      const sockets = await Promise.all(Array.from({ length: 4 }, () => rawTcp(b.port)));
      await within(3000, 'one refused', firstN(sockets.map(closedWith), 1));
      assert.deepEqual(rated.rejected, ['rate_limited']);
      for (const s of sockets) s.destroy();
    } finally {
      await b.listener.close(0);
    }
  });
});

/** The first `n` of `promises` to settle. */
function firstN<T>(promises: Promise<T>[], n: number): Promise<T[]> {
  return new Promise((resolve) => {
    const done: T[] = [];
    for (const p of promises) {
      void p.then((v) => {
        done.push(v);
        if (done.length === n) resolve(done);
      });
    }
  });
}
