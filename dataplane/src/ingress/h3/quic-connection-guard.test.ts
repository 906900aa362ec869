import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connectAsync, type Http3ClientSession } from '@currentspace/http3';
import type { Exchange } from '../../http/exchange.ts';
import { h3Request } from '../../testing/clients.ts';
import { recordingGuards, until, within } from '../../testing/connection-probes.ts';
import { openTestListener } from '../../testing/test-listener.ts';

async function ok(exchange: Exchange): Promise<void> {
  exchange.response.sendHead(200, [], true);
}

async function quicSession(port: number): Promise<{ session: Http3ClientSession; closed: Promise<void> }> {
  const session = await connectAsync(`127.0.0.1:${port}`, { rejectUnauthorized: false });
  session.on('error', () => {});
  const closed = new Promise<void>((resolve) => session.once('close', () => resolve()));
  return { session, closed };
}

describe('QUIC connection guard', () => {
  it('closes QUIC connections that open no stream within client_header_timeout_ms', async (t) => {
    const guards = recordingGuards({ clientHeaderTimeoutMs: 500 });
    const { listener, port } = await openTestListener(ok, guards);
    const sessions: Http3ClientSession[] = [];
    try {
      const started = performance.now();
      const idle = await Promise.all(Array.from({ length: 20 }, () => quicSession(port)));
      sessions.push(...idle.map((s) => s.session));
      await within(5000, 'idle QUIC connections closed', Promise.all(idle.map((s) => s.closed)));
      const elapsed = performance.now() - started;
      t.diagnostic(`20 idle QUIC connections closed after ${Math.round(elapsed)} ms`);
      assert.ok(elapsed >= 450, `closed after ${elapsed} ms`);
      assert.equal(guards.closed.filter((r) => r === 'no_stream_timeout').length, 20);
      await until(3000, 'places released', () => guards.admission.active === 0);
      assert.equal((await h3Request(port, 'GET', '/')).status, 200);
    } finally {
      await Promise.all(sessions.map((s) => s.close().catch(() => undefined)));
      await listener.close(0);
    }
  });

  it('closes a QUIC connection idle after its last stream, after client_idle_timeout_ms', async () => {
    const guards = recordingGuards({ clientIdleTimeoutMs: 500 });
    const { listener, port } = await openTestListener(ok, guards);
    const { session, closed } = await quicSession(port);
    try {
      const stream = session.request({ ':method': 'GET', ':scheme': 'https', ':authority': `localhost:${port}`, ':path': '/' }, { endStream: true });
      stream.resume();
      await within(5000, 'response', new Promise((resolve) => stream.once('end', resolve)));
      const started = performance.now();
      await within(5000, 'idle QUIC connection closed', closed);
      assert.ok(performance.now() - started >= 450);
      assert.deepEqual(guards.closed, ['idle_timeout']);
    } finally {
      await session.close().catch(() => undefined);
      await listener.close(0);
    }
  });

  it('caps QUIC connections per client address (closed at once, counted)', async () => {
    const guards = recordingGuards({ maxConnectionsPerIp: 2 });
    const { listener, port } = await openTestListener(ok, guards);
    const sessions: Http3ClientSession[] = [];
    try {
      const a = await quicSession(port);
      const b = await quicSession(port);
      sessions.push(a.session, b.session);
      const third = await quicSession(port).catch(() => null);
      if (third) {
        sessions.push(third.session);
        await within(5000, 'third connection closed', third.closed);
      }
      assert.deepEqual(guards.rejected, ['max_connections_per_ip']);
      assert.equal(guards.admission.activeFrom('127.0.0.1'), 2);
    } finally {
      await Promise.all(sessions.map((s) => s.close().catch(() => undefined)));
      await listener.close(0);
    }
  });
});
