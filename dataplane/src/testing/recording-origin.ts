/**
 * Test support: a node:http HTTP/1.1 origin on 127.0.0.1:0 that records every request it
 * received in full (method, target, headers, body) and answers `200 ok`. Requests whose body
 * never completed (the sender aborted mid-body) are counted apart, never recorded as seen.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface RecordingOrigin {
  readonly port: number;
  /** Requests received completely, in completion order. */
  readonly seen: SeenRequest[];
  /** Requests whose head arrived but whose body did not complete. */
  readonly incomplete: number;
  close(): Promise<void>;
}

export async function startRecordingOrigin(): Promise<RecordingOrigin> {
  const seen: SeenRequest[] = [];
  let incomplete = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let ended = false;
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    req.on('end', () => {
      ended = true;
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
      res.end('ok');
    });
    req.on('close', () => {
      if (!ended) incomplete++;
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    seen,
    get incomplete() {
      return incomplete;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
