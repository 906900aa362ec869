/**
 * Child process: the Node origins every proxy target forwards to, node:http (HTTP/1.1,
 * cleartext), node:https (HTTP/1.1 over TLS, ALPN offers only `http/1.1`, so a client that
 * would take h2 falls back to HTTP/1.1) and node:http2 (TLS), all on 127.0.0.1 port 0. Prints
 * one JSON line `{"h1": port, "h1tls": port, "h2": port}` once all listen; exits on SIGTERM.
 *
 *   node bench/src/proxy/node-origins-main.ts <cert.pem> <key.pem>
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { constants, createSecureServer, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { bodyForPath } from './workloads.ts';

const [certPath, keyPath] = process.argv.slice(2);
if (!certPath || !keyPath) throw new Error('usage: node-origins-main.ts <cert> <key>');

function h1(req: IncomingMessage, res: ServerResponse): void {
  if (req.method === 'POST' && req.url === '/echo') {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
      res.end(body);
    });
    return;
  }
  const body = req.method === 'GET' ? bodyForPath(req.url ?? '') : null;
  if (!body) {
    res.writeHead(404, { 'content-length': 0 });
    res.end();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
  res.end(body);
}

function h2(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
  stream.on('error', () => {});
  const method = headers[constants.HTTP2_HEADER_METHOD];
  const path = String(headers[constants.HTTP2_HEADER_PATH] ?? '');
  if (method === 'POST' && path === '/echo') {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const body = Buffer.concat(chunks);
      stream.respond({ ':status': 200, 'content-type': 'application/octet-stream', 'content-length': body.length });
      stream.end(body);
    });
    return;
  }
  const body = method === 'GET' ? bodyForPath(path) : null;
  if (!body) {
    stream.respond({ ':status': 404, 'content-length': 0 }, { endStream: true });
    return;
  }
  stream.respond({ ':status': 200, 'content-type': 'application/octet-stream', 'content-length': body.length });
  stream.end(body);
}

const tls = { cert: readFileSync(certPath), key: readFileSync(keyPath) };
const h1Server = createServer({ keepAliveTimeout: 120_000 }, h1);
// The same HTTP/1.1 handler over TLS: Spooky's `https://` backends offer h2 by ALPN, and only
// an origin that answers `http/1.1` keeps them on HTTP/1.1 (the "H1 over TLS" rows).
const h1TlsServer = createHttpsServer({ ...tls, ALPNProtocols: ['http/1.1'], keepAliveTimeout: 120_000 }, h1);
const h2Server = createSecureServer({ ...tls, allowHTTP1: false });
h2Server.on('stream', h2);
h2Server.on('sessionError', () => {});
await Promise.all([
  new Promise<void>((resolve) => h1Server.listen(0, '127.0.0.1', resolve)),
  new Promise<void>((resolve) => h1TlsServer.listen(0, '127.0.0.1', resolve)),
  new Promise<void>((resolve) => h2Server.listen(0, '127.0.0.1', resolve)),
]);
process.on('SIGTERM', () => process.exit(0));
const port = (s: { address(): unknown }): number => (s.address() as AddressInfo).port;
console.log(JSON.stringify({ h1: port(h1Server), h1tls: port(h1TlsServer), h2: port(h2Server) }));
