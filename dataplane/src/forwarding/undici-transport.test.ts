/**
 * The undici transport against a real node:http2 TLS origin (127.0.0.1, a fresh self-signed
 * certificate, verification on): the connection is built with H2_OPTIONS (the origin sees the
 * stream window we advertise, and the connection window we grant), and 1 MiB bodies arrive
 * whole and in order — alone, eight at once on the shared connection, and with the consumer
 * holding the body back (paused upstream, larger windows than undici's defaults).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createSecureServer, type Http2SecureServer, type ServerHttp2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { BackendTransport, BodyConsumer, UpstreamResponse } from '../http/backend-transport.ts';
import { makeSelfSignedCert } from '../testing/self-signed-cert.ts';
import type { TransportSettings } from './transport-settings.ts';
import { createUndiciTransport, H2_OPTIONS } from './undici-transport.ts';

const MIB = 1024 * 1024;
/** Not constant, so a lost, doubled or reordered chunk changes the bytes. */
const BODY = Buffer.from(Array.from({ length: MIB }, (_, i) => (i * 7 + (i >> 12)) % 251));

function settings(ca: string): TransportSettings {
  return {
    connectTimeoutMs: 2000,
    headersTimeoutMs: 5000,
    bodyIdleTimeoutMs: 5000,
    bodyTotalTimeoutMs: null,
    verifyCertificates: true,
    ca,
    serverName: null,
    clientCert: null,
  };
}

function get(transport: BackendTransport, path: string): Promise<UpstreamResponse> {
  return transport.forward({ method: 'GET', path, headers: [['host', '127.0.0.1']], body: null, signal: new AbortController().signal });
}

/** Reads the whole body; `holdFirst`: the first chunk answers "hold" and resumes a turn later. */
function readBody(response: UpstreamResponse, holdFirst = false): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let held = !holdFirst;
    const consumer: BodyConsumer = {
      data(chunk) {
        chunks.push(chunk);
        if (held) return true;
        held = true;
        setImmediate(() => response.resume());
        return false;
      },
      end: () => resolve(Buffer.concat(chunks)),
      error: reject,
    };
    response.stream(consumer);
  });
}

describe('undici transport → HTTP/2 origin', () => {
  let server: Http2SecureServer;
  let address: string;
  let ca: string;
  const sessions: ServerHttp2Session[] = [];
  const initialWindows: number[] = [];

  before(async () => {
    const cert = makeSelfSignedCert();
    ca = readFileSync(cert.certPath, 'utf8');
    server = createSecureServer({ cert: readFileSync(cert.certPath), key: readFileSync(cert.keyPath), allowHTTP1: false });
    server.on('session', (session) => {
      sessions.push(session);
      session.on('remoteSettings', (s) => {
        if (s.initialWindowSize !== undefined) initialWindows.push(s.initialWindowSize);
      });
    });
    server.on('stream', (stream) => {
      stream.on('error', () => {});
      stream.respond({ ':status': 200, 'content-length': BODY.length });
      stream.end(BODY);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    address = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    for (const s of sessions) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('advertises the H2_OPTIONS stream window and delivers a 1 MiB body whole', async () => {
    const transport = createUndiciTransport(address, settings(ca));
    try {
      assert.equal(transport.protocol, 'h2');
      const response = await get(transport, '/one');
      assert.equal(response.status, 200);
      const body = await readBody(response);
      assert.equal(body.length, MIB);
      assert.ok(body.equals(BODY), 'body bytes differ');
      assert.equal(initialWindows.at(-1), H2_OPTIONS.initialWindowSize);
      assert.equal(H2_OPTIONS.initialWindowSize, MIB);
      // The connection window we granted: what the origin may still send before a WINDOW_UPDATE.
      const state = sessions.at(-1)?.state;
      assert.ok((state?.remoteWindowSize ?? 0) > 512 * 1024, `connection window ${state?.remoteWindowSize}`);
    } finally {
      await transport.close();
    }
  });

  it('delivers eight concurrent 1 MiB bodies on one connection whole, also with the consumer holding back', async () => {
    const before = sessions.length;
    const transport = createUndiciTransport(address, settings(ca));
    try {
      const bodies = await Promise.all(
        Array.from({ length: 8 }, async (_, i) => readBody(await get(transport, `/many/${i}`), i % 2 === 0)),
      );
      for (const body of bodies) assert.ok(body.equals(BODY), 'body bytes differ');
      assert.equal(sessions.length - before, 1, 'one HTTP/2 connection carries all eight');
    } finally {
      await transport.close();
    }
  });
});
