/**
 * An origin that dies mid-response, for the "backend dying mid-body" case: every request gets
 * a 200 head declaring `DECLARED_BYTES` of body, `SENT_BYTES` of it, and then the origin
 * destroys the connection (HTTP/1.1: the TCP socket; HTTP/2: the whole session, which is what
 * a crashed origin process looks like to its peer).
 */

import { readFileSync } from 'node:fs';
import { createServer as createH1Server, type Server } from 'node:http';
import { createSecureServer, type Http2SecureServer, type ServerHttp2Session } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import type { CertFiles } from './certs.ts';
import type { Origin } from './origins.ts';

export const DECLARED_BYTES = 1024 * 1024;
export const SENT_BYTES = 64 * 1024;

function listen(server: Server | Http2SecureServer): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

export async function startDyingH1Origin(name: string): Promise<Origin> {
  const requests: Origin['requests'] = [];
  const sockets = new Set<Socket>();
  const server = createH1Server((req, res) => {
    requests.push({ method: req.method ?? '', path: req.url ?? '', headers: { ...req.headers } });
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(DECLARED_BYTES), 'x-origin': name });
    res.write(Buffer.alloc(SENT_BYTES, 0x61), () => req.socket.destroy());
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const port = await listen(server);
  return {
    name,
    port,
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

export async function startDyingH2Origin(name: string, cert: CertFiles): Promise<Origin> {
  const requests: Origin['requests'] = [];
  const sessions = new Set<ServerHttp2Session>();
  const server = createSecureServer({ cert: readFileSync(cert.cert), key: readFileSync(cert.key) });
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
    s.on('error', () => {});
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    requests.push({ method: String(headers[':method']), path: String(headers[':path']), headers: { ...headers } });
    stream.respond({ ':status': 200, 'content-type': 'application/octet-stream', 'content-length': String(DECLARED_BYTES), 'x-origin': name });
    stream.write(Buffer.alloc(SENT_BYTES, 0x62), () => stream.session?.destroy());
  });
  const port = await listen(server);
  return {
    name,
    port,
    url: `https://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => {
      for (const s of sessions) s.destroy();
      server.close(() => resolve());
    }),
  };
}
