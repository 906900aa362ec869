/**
 * An HTTP/1.1 origin that reads the whole request body before it answers (200, JSON
 * `{bytes}`), unlike the echo origins, which answer as soon as the body starts. A body limit
 * that is enforced while the body streams can then only show up as the proxy's own 413: the
 * origin has not answered anything yet.
 */
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Origin } from './origins.ts';

export async function startSinkOrigin(name: string): Promise<Origin> {
  const requests: Origin['requests'] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', path: req.url ?? '', headers: { ...req.headers } });
    let bytes = 0;
    req.on('data', (c: Buffer) => {
      bytes += c.length;
    });
    req.on('error', () => {});
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-origin': name });
      res.end(JSON.stringify({ bytes }));
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
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
