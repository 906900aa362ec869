import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { type ClientHttp2Session, connect as h2connect } from 'node:http2';
import { afterEach, describe, it } from 'node:test';
import { connect } from 'node:tls';
import type { Listener } from '@spooky/config';
import pino from 'pino';
import type { Exchange } from '../http/exchange.ts';
import { freeUdpTcpPort } from '../testing/free-port.ts';
import { makeSelfSignedCert } from '../testing/self-signed-cert.ts';
import { ListenerManager } from './listener-manager.ts';

async function hello(exchange: Exchange): Promise<void> {
  exchange.response.sendComplete(200, [['content-type', 'text/plain']], Buffer.from('hello'));
}

async function served(port: number, servername: string): Promise<string> {
  const socket = connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false, ALPNProtocols: ['h2'] });
  try {
    await once(socket, 'secureConnect');
    return socket.getPeerX509Certificate()?.fingerprint256 ?? '';
  } finally {
    socket.destroy();
  }
}

async function get(session: ClientHttp2Session): Promise<number> {
  const req = session.request({ ':path': '/' }, { endStream: true, signal: AbortSignal.timeout(10_000) });
  const [headers] = (await once(req, 'response')) as [Record<string, string>];
  req.resume();
  await once(req, 'end');
  return Number(headers[':status']);
}

const fingerprint = (path: string): string => new X509Certificate(readFileSync(path)).fingerprint256;

describe('certificate reload (listener manager)', () => {
  let manager: ListenerManager | undefined;
  afterEach(async () => {
    await manager?.closeAll(0);
  });

  it('applies a changed SNI certificate in place, refuses a half-written one, keeps the server', async () => {
    manager = new ListenerManager({ handler: hello, logger: pino({ level: 'silent' }), certificatePollMs: 0 });
    const main = makeSelfSignedCert();
    const sni = makeSelfSignedCert(undefined, 'sni');
    const port = await freeUdpTcpPort();
    const listener: Listener = {
      protocol: 'http3',
      address: '127.0.0.1',
      port,
      tls: { cert: main.certPath, key: main.keyPath, certificates: [{ server_name: 'a.test', cert: sni.certPath, key: sni.keyPath }] },
    };
    const first = await manager.prepare([listener]);
    assert.ok(first.ok);
    manager.commit(first.prepared);
    const held = h2connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false, servername: 'a.test' });
    held.on('error', () => {});
    assert.equal(await get(held), 200);
    assert.equal(await served(port, 'a.test'), fingerprint(sni.certPath));
    assert.deepEqual(await manager.reloadCertificates(), { status: 'unchanged' });

    // Half-written: a new certificate whose key is not there yet.
    const next = makeSelfSignedCert(undefined, 'next');
    const old = fingerprint(sni.certPath);
    copyFileSync(next.certPath, sni.certPath);
    const rejected = await manager.reloadCertificates();
    assert.equal(rejected.status, 'rejected');
    assert.equal(await served(port, 'a.test'), old, 'the half-swapped pair was not loaded: the old one serves');

    writeFileSync(sni.keyPath, readFileSync(next.keyPath));
    assert.deepEqual(await manager.reloadCertificates(), { status: 'reloaded' });
    assert.equal(await served(port, 'a.test'), fingerprint(next.certPath));
    assert.equal(await served(port, 'other.test'), fingerprint(main.certPath));
    assert.equal(await get(held), 200, 'a connection made before the reload still serves: no hand-over');
    held.destroy();
  });

  it('reports busy while a generation is prepared and not yet committed', async () => {
    manager = new ListenerManager({ handler: hello, logger: pino({ level: 'silent' }), certificatePollMs: 0 });
    const main = makeSelfSignedCert();
    const listener: Listener = { protocol: 'http3', address: '127.0.0.1', port: await freeUdpTcpPort(), tls: { cert: main.certPath, key: main.keyPath } };
    const first = await manager.prepare([listener]);
    assert.ok(first.ok);
    manager.commit(first.prepared);
    const second = await manager.prepare([listener]);
    assert.ok(second.ok);
    assert.deepEqual(await manager.reloadCertificates(), { status: 'busy' });
    manager.commit(second.prepared);
    assert.deepEqual(await manager.reloadCertificates(), { status: 'unchanged' });
  });
});
