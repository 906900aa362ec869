/**
 * Real origins for in-process pipeline tests (test helper, not used in production):
 * a node:http HTTP/1.1 origin and a node:http2 TLS origin with a throwaway self-signed
 * certificate (self-signed-cert.ts). All bound to 127.0.0.1 on port 0.
 */
import { readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createSecureServer, type Http2SecureServer, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { closedTcpPort } from './free-port.ts';
import { makeSelfSignedCert } from './self-signed-cert.ts';

export const MIB = 1024 * 1024;

/** 1 MiB of deterministic bytes. */
export function bigBody(): Buffer {
  const b = Buffer.alloc(MIB);
  for (let i = 0; i < b.length; i++) b[i] = (i * 31 + 7) & 0xff;
  return b;
}

export interface Origins {
  readonly h1Port: number;
  readonly h2Port: number;
  readonly closedPort: number;
  readonly caFile: string;
  close(): Promise<void>;
}

function handleH1(req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '/';
  if (url.startsWith('/h1/never')) return; // never answers: headers timeout
  if (url.startsWith('/h1/trickle')) {
    // Head now, then a small chunk every 50 ms forever: no idle gap, only a whole-request
    // deadline ends it.
    res.writeHead(200, { 'content-type': 'text/plain' });
    const timer = setInterval(() => res.write('.'), 50);
    res.on('close', () => clearInterval(timer));
    return;
  }
  if (url.startsWith('/h1/big')) {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': MIB });
    res.end(bigBody());
    return;
  }
  if (url.startsWith('/h1/hop')) {
    res.writeHead(200, [
      ['connection', 'x-resp-listed'],
      ['x-resp-listed', '1'],
      ['proxy-authenticate', 'Basic'],
      ['upgrade', 'h2c'],
      ['x-kept', 'yes'],
      ['set-cookie', 'a=1'],
      ['set-cookie', 'b=2'],
    ].flat());
    res.end('hop');
    return;
  }
  if (url.startsWith('/h1/trailers')) {
    res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-checksum' });
    res.write('body');
    res.addTrailers({ 'x-checksum': 'abc' });
    res.end();
    return;
  }
  // /h1/echo and everything else: status 200, the request's headers as a response header
  // (JSON), the request body streamed back.
  res.writeHead(url.startsWith('/h1/created') ? 201 : 200, {
    'content-type': 'application/octet-stream',
    'x-origin': 'h1',
    'x-seen-path': url,
    'x-seen-method': req.method ?? '',
    'x-seen-headers': JSON.stringify(req.headers),
  });
  req.pipe(res);
}

function handleH2(stream: ServerHttp2Stream, headers: Record<string, string | string[] | undefined>): void {
  const path = String(headers[':path']);
  stream.on('error', () => undefined);
  if (path.startsWith('/h2/trailers')) {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': 'ok' }));
    stream.end('h2-body');
    return;
  }
  stream.respond({
    ':status': 200,
    'x-origin': 'h2',
    'x-seen-path': path,
    'x-seen-authority': String(headers[':authority']),
    'x-seen-te': String(headers.te ?? ''),
  });
  stream.pipe(stream);
}

function listen(server: Server | Http2SecureServer): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

export async function startOrigins(): Promise<Origins> {
  const { dir, certPath: caFile, keyPath: keyFile } = makeSelfSignedCert();
  const h1 = createServer(handleH1);
  const h2 = createSecureServer({ key: readFileSync(keyFile), cert: readFileSync(caFile) });
  h2.on('stream', handleH2);
  const h1Port = await listen(h1);
  const h2Port = await listen(h2);
  const closedPort = await closedTcpPort();
  return {
    h1Port,
    h2Port,
    closedPort,
    caFile,
    async close() {
      h1.closeAllConnections();
      await new Promise<void>((resolve) => h1.close(() => resolve()));
      await new Promise<void>((resolve) => {
        h2.close(() => resolve());
        // http2 sessions keep the server open; the client pools are closed by the test first.
      });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
