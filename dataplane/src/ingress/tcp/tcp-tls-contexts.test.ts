import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { connect } from 'node:tls';
import { makeSelfSignedCert } from '../../testing/self-signed-cert.ts';
import type { SniMaterial } from '../listener-spec.ts';
import { applyTcpTls, orderedForNode } from './tcp-tls-contexts.ts';

function material(name: string, serverName: string): SniMaterial {
  const files = makeSelfSignedCert(undefined, name);
  return { serverName, cert: readFileSync(files.certPath), key: readFileSync(files.keyPath) };
}

describe('TLS TCP contexts (node tls on an http2 server)', () => {
  const fallback = material('default', '');
  const exact = material('exact', 'a.w.test');
  const wildcard = material('wild', '*.w.test');
  let server: Http2SecureServer;
  let port: number;

  before(async () => {
    server = createSecureServer({ cert: fallback.cert, key: fallback.key });
    server.on('error', () => {});
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function served(servername: string): Promise<string> {
    const socket = connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false, ALPNProtocols: ['h2'] });
    try {
      await once(socket, 'secureConnect');
      return socket.getPeerX509Certificate()?.fingerprint256 ?? '';
    } finally {
      socket.destroy();
    }
  }
  const fp = (m: SniMaterial): string => new X509Certificate(m.cert).fingerprint256;

  it('orders wildcards before exact names (node looks up last-added first)', () => {
    assert.deepEqual(
      orderedForNode([exact, wildcard]).map((s) => s.serverName),
      ['*.w.test', 'a.w.test'],
    );
  });

  it('an exact name beats a wildcard, also after the list is re-applied; shadowed contexts are dropped', async () => {
    for (let round = 0; round < 3; round++) {
      applyTcpTls(server, { cert: fallback.cert, key: fallback.key, sni: [exact, wildcard], clientAuth: null });
      assert.equal(await served('a.w.test'), fp(exact), `round ${round}`);
      assert.equal(await served('b.w.test'), fp(wildcard));
      assert.equal(await served('c.b.w.test'), fp(fallback), 'the wildcard matches one label only');
    }
    assert.equal((server as unknown as { _contexts: unknown[] })._contexts.length, 2, 'no growth per reload');
  });

  it('client certificates: requestCert / rejectUnauthorized follow the material', () => {
    const ca = fallback.cert;
    const s = server as unknown as { requestCert: boolean; rejectUnauthorized: boolean };
    applyTcpTls(server, { cert: fallback.cert, key: fallback.key, sni: [], clientAuth: { required: false, ca, subjectHeader: 'a', fingerprintHeader: 'b' } });
    assert.deepEqual([s.requestCert, s.rejectUnauthorized], [true, false]);
    applyTcpTls(server, { cert: fallback.cert, key: fallback.key, sni: [], clientAuth: null });
    assert.deepEqual([s.requestCert, s.rejectUnauthorized], [false, true]);
  });

  it('throws with nothing changed when node refuses the material', async () => {
    applyTcpTls(server, { cert: fallback.cert, key: fallback.key, sni: [exact], clientAuth: null });
    assert.throws(() => applyTcpTls(server, { cert: fallback.cert, key: exact.key, sni: [wildcard], clientAuth: null }));
    assert.equal(await served('a.w.test'), fp(exact));
    assert.equal(await served('other.test'), fp(fallback));
  });
});
