/**
 * An origin whose answers depend only on the request line (never on which protocol or proxy
 * hop reached it), so the same case through Spooky over HTTP/3, HTTP/2 and HTTP/1.1 must give
 * the same status, headers, body and trailers. Served over HTTP/1.1 (node:http) or HTTP/2 over
 * TLS (node:http2). Paths (any prefix; the last segment decides):
 *  - `…/get`: 200 text/plain `hello parity\n`, content-length, `x-case: get` (HEAD: same head, no body);
 *  - `…/no-content`: 204; `…/not-modified`: 304 with an etag;
 *  - `…/trailers`: 200 chunked body, trailers `x-checksum: 1234` and `x-done: yes`;
 *  - `…/big?size=N`: N pattern bytes with content-length;
 *  - POST `…/echo`: the request body back (content-type kept, no content-length).
 */

import { readFileSync } from 'node:fs';
import { createServer as createH1Server, type IncomingMessage, type ServerResponse } from 'node:http';
import { createSecureServer, type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Session } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import type { CertFiles } from './certs.ts';
import { patternBytes } from './origins.ts';

export interface ParityOrigin {
  readonly url: string;
  close(): Promise<void>;
}

type Req = IncomingMessage | Http2ServerRequest;
type Res = ServerResponse | Http2ServerResponse;

export const GET_BODY = 'hello parity\n';
export const PARITY_TRAILERS = { 'x-checksum': '1234', 'x-done': 'yes' };

function answer(req: Req, res: Res): void {
  const url = new URL(req.url ?? '/', 'http://origin');
  const last = url.pathname.slice(url.pathname.lastIndexOf('/') + 1);
  const r = res as ServerResponse; // the compat API of both servers: the calls used here exist on each
  r.setHeader('x-case', last);
  if (req.method === 'POST' && last === 'echo') {
    r.statusCode = 200;
    r.setHeader('content-type', req.headers['content-type'] ?? 'application/octet-stream');
    (req as NodeJS.ReadableStream).pipe(r);
    return;
  }
  req.resume();
  switch (last) {
    case 'get':
      r.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(Buffer.byteLength(GET_BODY)) });
      r.end(req.method === 'HEAD' ? undefined : GET_BODY);
      return;
    case 'no-content':
      r.writeHead(204);
      r.end();
      return;
    case 'not-modified':
      r.writeHead(304, { etag: '"v1"' });
      r.end();
      return;
    case 'trailers':
      r.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-checksum, x-done' });
      r.write('part one\n');
      r.addTrailers(PARITY_TRAILERS);
      r.end('part two\n');
      return;
    case 'big': {
      const body = patternBytes(Number(url.searchParams.get('size') ?? '0'));
      r.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(body.length) });
      r.end(body);
      return;
    }
    default:
      r.writeHead(404, { 'content-type': 'text/plain' });
      r.end('origin: unknown case\n');
  }
}

function listening(server: { listen(port: number, host: string, cb: () => void): unknown; once(e: 'error', cb: (err: Error) => void): unknown; address(): unknown }): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

export async function startParityH1Origin(): Promise<ParityOrigin> {
  const sockets = new Set<Socket>();
  const server = createH1Server(answer);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const port = await listening(server);
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

export async function startParityH2Origin(cert: CertFiles): Promise<ParityOrigin> {
  const sessions = new Set<ServerHttp2Session>();
  const server = createSecureServer({ cert: readFileSync(cert.cert), key: readFileSync(cert.key) }, answer);
  server.on('session', (s) => {
    sessions.add(s);
    s.on('error', () => {});
    s.on('close', () => sessions.delete(s));
  });
  const port = await listening(server);
  return {
    url: `https://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => {
      for (const s of sessions) s.destroy();
      server.close(() => resolve());
    }),
  };
}
