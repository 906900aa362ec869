/**
 * A new default certificate on the same address:port, in one process (listener-manager.ts →
 * serving-listener.ts `prepareSwap`): the TCP listening socket is the same socket before and
 * after (its inode in /proc/net/tcp), not one TCP connect is refused while the swap runs, a
 * request in flight on an HTTP/2 connection opened before it completes, new TLS handshakes
 * get the new certificate at once, and once the old QUIC server has closed (and its UDP
 * sockets left the port) every new QUIC handshake verifies against the new certificate only.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect as h2connect } from 'node:http2';
import { connect as netConnect } from 'node:net';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { connectAsync } from '@currentspace/http3';
import type { Listener } from '@spooky/config';
import pino from 'pino';
import type { Exchange } from '../http/exchange.ts';
import { h3Request } from '../testing/clients.ts';
import { rawTls, until, within } from '../testing/connection-probes.ts';
import { freeUdpTcpPort } from '../testing/free-port.ts';
import { makeSelfSignedCert } from '../testing/self-signed-cert.ts';
import { ListenerManager } from './listener-manager.ts';

/** '/slow' answers after 400 ms (a request in flight across the swap); the rest at once. */
async function handler(exchange: Exchange): Promise<void> {
  if (exchange.head.path === '/slow') await new Promise((resolve) => setTimeout(resolve, 400));
  exchange.response.sendHead(200, [['content-type', 'text/plain']], false);
  exchange.response.write(Buffer.from('hello'));
  exchange.response.end();
}

const hex = (port: number): string => port.toString(16).toUpperCase().padStart(4, '0');

/** Inodes of the LISTEN sockets on 127.0.0.1:port (st 0A). */
function listeningInodes(port: number): string[] {
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[1] === `0100007F:${hex(port)}` && f[3] === '0A')
    .map((f) => f[9] as string);
}

/** UDP sockets bound to 127.0.0.1:port. */
function udpSockets(port: number): number {
  return readFileSync('/proc/net/udp', 'utf8')
    .split('\n')
    .filter((l) => l.trim().split(/\s+/)[1] === `0100007F:${hex(port)}`).length;
}

function tcpConnects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect(port, '127.0.0.1');
    socket.setTimeout(2_000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** true when a fresh QUIC handshake verifies against `caPath` (and nothing else). */
async function quicVerifies(port: number, caPath: string): Promise<boolean> {
  try {
    const session = await within(5_000, 'QUIC handshake', connectAsync(`127.0.0.1:${port}`, { servername: 'localhost', ca: readFileSync(caPath), rejectUnauthorized: true }));
    session.on('error', () => {});
    await session.close();
    return true;
  } catch {
    return false;
  }
}

describe('certificate swap on the same port (one process)', () => {
  const lines: Array<{ msg?: string }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as { msg?: string });
      done();
    },
  });
  const manager = new ListenerManager({ handler, logger: pino({ level: 'info' }, sink), drainMs: 2000, certificatePollMs: 0 });
  after(() => manager.closeAll(0));

  it('keeps the TCP socket, refuses no connection, finishes the request in flight, serves the new certificate on TCP and QUIC', async (t) => {
    const port = await freeUdpTcpPort();
    const oldCert = makeSelfSignedCert(undefined, 'old');
    const newCert = makeSelfSignedCert(undefined, 'new');
    const spec = (c: typeof oldCert): Listener => ({ protocol: 'http3', address: '127.0.0.1', port, tls: { cert: c.certPath, key: c.keyPath } });
    const first = await manager.prepare([spec(oldCert)]);
    assert.ok(first.ok);
    manager.commit(first.prepared);
    const socketsBefore = listeningInodes(port);
    assert.equal(socketsBefore.length, 1, 'one TCP listening socket');
    const udpBefore = udpSockets(port);
    assert.ok(await quicVerifies(port, oldCert.certPath), 'QUIC serves the first certificate');

    // An HTTP/2 request in flight across the swap, on a connection opened before it.
    const h2 = h2connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false, servername: 'localhost' });
    h2.on('error', () => {});
    await once(h2, 'connect');
    const slow = h2.request({ ':path': '/slow', ':authority': `localhost:${port}` }, { endStream: true });
    const slowStatus = once(slow, 'response').then(([h]) => Number((h as Record<string, unknown>)[':status']));
    slow.resume();

    let probing = true;
    const probes = { accepted: 0, refused: 0 };
    const probe = (async () => {
      while (probing) {
        if (await tcpConnects(port)) probes.accepted++;
        else probes.refused++;
      }
    })();
    const from = lines.length;
    try {
      const second = await manager.prepare([spec(newCert)]);
      assert.ok(second.ok, JSON.stringify(second));
      assert.equal(second.prepared.swaps.length, 1);
      manager.commit(second.prepared);
      const fresh = new X509Certificate(readFileSync(newCert.certPath)).fingerprint256;
      const tls = await within(5_000, 'TLS handshake after the commit', rawTls(port, 'http/1.1'));
      assert.equal(tls.getPeerX509Certificate()?.fingerprint256, fresh, 'the first handshake after the commit gets the new certificate');
      tls.destroy();
      assert.equal(await within(5_000, 'the request in flight', slowStatus), 200, 'the request in flight on the old connection completes');
      await until(5_000, 'the old server closed', () => lines.slice(from).some((l) => l.msg === 'listener certificate swapped: previous server closed'));
    } finally {
      probing = false;
      await within(5_000, 'the connect probe', probe);
      h2.destroy();
    }
    t.diagnostic(`TCP connects during the swap: ${probes.accepted} accepted, ${probes.refused} refused`);
    assert.equal(probes.refused, 0, 'no TCP connection refused');
    assert.ok(probes.accepted > 0, 'the probe ran');
    assert.deepEqual(listeningInodes(port), socketsBefore, 'the same TCP listening socket');
    // The old server's UDP sockets leave the port (the GC after its close).
    await until(3_000, 'the old UDP sockets released', () => udpSockets(port) === udpBefore);
    for (let i = 0; i < 4; i++) assert.ok(await quicVerifies(port, newCert.certPath), 'a new QUIC handshake gets the new certificate');
    assert.equal(await quicVerifies(port, oldCert.certPath), false, 'and not the old one');
    assert.equal((await within(10_000, 'HTTP/3 after the swap', h3Request(port, 'GET', '/'))).body, 'hello');
  });
});
