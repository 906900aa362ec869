/**
 * Small real origins for end-to-end tests and the demo: node:http (HTTP/1.1) and
 * node:http2 over TLS (HTTP/2). Both answer the same way:
 *  - every response carries `x-origin: <name>` and `x-seen-protocol` (1.1 or 2.0);
 *  - POST/PUT: the request body is streamed back unchanged (content-type kept);
 *  - GET `?size=N`: N bytes of a fixed pattern (see patternBytes);
 *  - GET `?trailers=1`: body then trailer `x-origin-trailer: done` (HTTP/2 only);
 *  - anything else: JSON {origin, method, path, headers}.
 */

import { readFileSync } from 'node:fs';
import { createServer as createH1Server, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createSecureServer, type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { CertFiles } from './certs.ts';

export interface Origin {
  readonly name: string;
  readonly port: number;
  /** `http://127.0.0.1:PORT` or `https://127.0.0.1:PORT`. */
  readonly url: string;
  /** Requests seen, most recent last. */
  readonly requests: Array<{ method: string; path: string; headers: Record<string, string | string[] | undefined> }>;
  close(): Promise<void>;
}

/** Deterministic body bytes: byte i is (i * 31 + 7) mod 251. */
export function patternBytes(size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + 7) % 251;
  return out;
}

type Req = IncomingMessage | Http2ServerRequest;
type Res = ServerResponse | Http2ServerResponse;

function handler(name: string, requests: Origin['requests']) {
  return (req: Req, res: Res) => {
    const url = new URL(req.url ?? '/', 'http://origin');
    requests.push({ method: req.method ?? '', path: req.url ?? '', headers: { ...req.headers } });
    res.setHeader('x-origin', name);
    res.setHeader('x-seen-protocol', req.httpVersion);
    if (req.method === 'POST' || req.method === 'PUT') {
      res.statusCode = 200;
      res.setHeader('content-type', req.headers['content-type'] ?? 'application/octet-stream');
      (req as NodeJS.ReadableStream).pipe(res as unknown as NodeJS.WritableStream);
      return;
    }
    const size = url.searchParams.get('size');
    if (size !== null) {
      res.statusCode = 200;
      res.setHeader('content-type', 'application/octet-stream');
      (res as ServerResponse).end(patternBytes(Number(size)));
      return;
    }
    if (url.searchParams.get('trailers') === '1' && 'addTrailers' in res) {
      res.statusCode = 200;
      res.setHeader('content-type', 'text/plain');
      (res as Http2ServerResponse).write('body-before-trailers\n');
      (res as Http2ServerResponse).addTrailers({ 'x-origin-trailer': 'done' });
      res.end();
      return;
    }
    const body = JSON.stringify({ origin: name, method: req.method, path: req.url, headers: req.headers });
    res.statusCode = 200;
    res.setHeader('content-type', 'application/json');
    (res as ServerResponse).end(body);
  };
}

function listen(server: Server | Http2SecureServer, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

export async function startH1Origin(name: string, port = 0): Promise<Origin> {
  const requests: Origin['requests'] = [];
  const server = createH1Server(handler(name, requests));
  server.keepAliveTimeout = 30_000;
  const bound = await listen(server, port);
  return {
    name,
    port: bound,
    url: `http://127.0.0.1:${bound}`,
    requests,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

export async function startH2Origin(name: string, cert: CertFiles, port = 0): Promise<Origin> {
  const requests: Origin['requests'] = [];
  const server = createSecureServer({ cert: readFileSync(cert.cert), key: readFileSync(cert.key), allowHTTP1: false }, handler(name, requests));
  const sessions = new Set<import('node:http2').ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  const bound = await listen(server, port);
  return {
    name,
    port: bound,
    url: `https://127.0.0.1:${bound}`,
    requests,
    close: () => new Promise((resolve) => {
      for (const s of sessions) s.destroy();
      server.close(() => resolve());
    }),
  };
}
