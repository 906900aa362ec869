/**
 * A server-sent-events origin over HTTP/1.1 (node:http) or HTTP/2 over TLS (node:http2): every
 * request gets `text/event-stream`, the event `first` at once, then waits on a fresh Gate (in
 * `gates`, most recent last; bounded by GATE_MS) before the event `second` and the end. A
 * client that sees `first` while the gate is still closed proves the proxy did not buffer.
 */

import { readFileSync } from 'node:fs';
import { createServer as createH1Server, type IncomingMessage, type ServerResponse } from 'node:http';
import { createSecureServer, type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Session } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import type { CertFiles } from './certs.ts';
import { Gate } from './gate.ts';

export const SSE_FIRST = 'id: 1\nevent: tick\ndata: first\n\n';
export const SSE_SECOND = 'id: 2\nevent: tick\ndata: second\n\n';
const GATE_MS = 20_000;

export interface SseOrigin {
  readonly url: string;
  /** One per request, in arrival order. */
  readonly gates: Gate[];
  /** Requests whose response the origin ended. */
  finished: number;
  close(): Promise<void>;
}

function handler(origin: SseOrigin) {
  return (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse): void => {
    const r = res as ServerResponse; // the compat API of both servers: these calls exist on each
    req.resume();
    const gate = new Gate();
    origin.gates.push(gate);
    r.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    r.write(SSE_FIRST);
    void gate.wait(GATE_MS).then(() => {
      if (r.destroyed) return;
      r.end(SSE_SECOND, () => {
        origin.finished++;
      });
    });
  };
}

function listening(server: { listen(port: number, host: string, cb: () => void): unknown; once(e: 'error', cb: (err: Error) => void): unknown; address(): unknown }): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

export async function startSseOrigin(cert?: CertFiles): Promise<SseOrigin> {
  const closers: Array<() => void> = [];
  const origin: SseOrigin = { url: '', gates: [], finished: 0, close: async () => {} };
  const server = cert
    ? createSecureServer({ cert: readFileSync(cert.cert), key: readFileSync(cert.key) }, handler(origin))
    : createH1Server(handler(origin));
  if (cert) {
    server.on('session', (s: ServerHttp2Session) => {
      s.on('error', () => {});
      closers.push(() => s.destroy());
    });
  } else {
    server.on('connection', (s: Socket) => closers.push(() => s.destroy()));
  }
  const port = await listening(server);
  return Object.assign(origin, {
    url: `${cert ? 'https' : 'http'}://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => {
      for (const g of origin.gates) g.open();
      for (const c of closers) c();
      server.close(() => resolve());
    }),
  });
}
