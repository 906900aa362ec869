/**
 * connectTunnel over TLS against a real node:tls server on 127.0.0.1 that requires a client
 * certificate: the upstream's `server_name` is sent as SNI and used to verify the backend's
 * certificate, and the upstream's client certificate is presented (upstream mTLS), as for
 * pooled traffic.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { SpookyError } from '../errors.ts';
import { makeSelfSignedCert } from '../testing/self-signed-cert.ts';
import { connectTunnel, type TunnelTls } from './tunnel-upstream.ts';

describe('connectTunnel over TLS: SNI name and client certificate of the upstream', () => {
  const serverCert = makeSelfSignedCert(undefined, 'server'); // SANs: 127.0.0.1, localhost
  const clientCert = makeSelfSignedCert(undefined, 'client');
  const ca = readFileSync(serverCert.certPath, 'utf8');
  const client = { cert: readFileSync(clientCert.certPath, 'utf8'), key: readFileSync(clientCert.keyPath, 'utf8') };
  type Seen = { servername: string | false | null; authorized: boolean };
  const seen: Seen[] = [];
  let onSeen: (() => void) | null = null;
  /** The server's view of the next handshake (its event may come after the client's). */
  const nextSeen = (from: number): Promise<Seen[]> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no handshake on the server within 5 s')), 5_000);
      const check = (): void => {
        if (seen.length > from) {
          clearTimeout(timer);
          onSeen = null;
          resolve(seen.slice(from));
        } else onSeen = check;
      };
      check();
    });
  let server: Server;
  let address: string;

  before(async () => {
    server = createServer({
      cert: readFileSync(serverCert.certPath),
      key: readFileSync(serverCert.keyPath),
      ca: client.cert,
      requestCert: true,
      rejectUnauthorized: true,
    });
    server.on('secureConnection', (socket: TLSSocket) => {
      seen.push({ servername: socket.servername, authorized: socket.authorized });
      onSeen?.();
      socket.on('error', () => {});
      socket.end();
    });
    server.on('tlsClientError', () => {});
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    address = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const connect = (tls: TunnelTls) => connectTunnel({ address, tls, connectTimeoutMs: 5_000, signal: new AbortController().signal });

  it('sends server_name as SNI to an IP-literal backend, verifies against it, and presents the client certificate', async () => {
    const before = seen.length;
    const socket = await connect({ verifyCertificates: true, ca, serverName: 'localhost', clientCert: client });
    assert.deepEqual(await nextSeen(before), [{ servername: 'localhost', authorized: true }]);
    socket.destroy();
  });

  it('an IP-literal backend without server_name gets no SNI (verified against the IP SAN)', async () => {
    const before = seen.length;
    const socket = await connect({ verifyCertificates: true, ca, serverName: null, clientCert: client });
    assert.deepEqual(await nextSeen(before), [{ servername: false, authorized: true }]);
    socket.destroy();
  });

  it('a server_name the backend certificate does not cover fails verification', async () => {
    await assert.rejects(connect({ verifyCertificates: true, ca, serverName: 'other.test', clientCert: client }), (err: unknown) => err instanceof SpookyError);
  });

  it('without the client certificate the backend refuses the handshake', async () => {
    await assert.rejects(
      connect({ verifyCertificates: true, ca, serverName: 'localhost', clientCert: null }).then((s) => {
        // TLS 1.3: the client may finish its side before the server's refusal arrives; the
        // refusal then closes the socket at once. Either way no tunnel can be used.
        return new Promise<never>((_, reject) => {
          s.on('close', () => reject(new SpookyError('upstream_connect_failed', 'closed by the backend')));
          s.on('data', () => {});
        });
      }),
      (err: unknown) => err instanceof SpookyError,
    );
  });
});
