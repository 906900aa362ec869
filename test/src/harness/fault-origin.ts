/**
 * An HTTP/1.1 origin that fails a configurable share of its requests, for health-gate and
 * in-node-canary cases. Failures are spread exactly, not randomly: of every run of requests,
 * request i fails when floor((i+1)·share) > floor(i·share), so a share of 0.2 fails 1 in 5,
 * in order, and a test's numbers do not depend on luck.
 *
 * How a request fails: `503` (a 503 answer, `x-fault: 1`) or `reset` (the TCP connection is
 * destroyed before any response byte: the proxy sees a transport failure). A request under
 * `/fault/<percent>/…` uses that share instead of the origin's, so one origin can back a good
 * route and a failing one. Every answer carries `x-origin: <name>`; successes are 200 JSON.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type FaultKind = '503' | 'reset';

export interface FaultOrigin {
  readonly name: string;
  readonly port: number;
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** Requests answered 200 / failed so far. */
  readonly counts: { ok: number; failed: number };
  /** Changes the default share (0…1) from the next request on. */
  setFailShare(share: number): void;
  close(): Promise<void>;
}

const FAULT_PATH = /^\/fault\/(\d{1,3})(?:\/|$|\?)/;

export async function startFaultOrigin(name: string, opts: { failShare?: number; kind?: FaultKind } = {}): Promise<FaultOrigin> {
  let share = opts.failShare ?? 0;
  const kind = opts.kind ?? '503';
  const counters = new Map<number, number>();
  const counts = { ok: 0, failed: 0 };
  const sockets = new Set<Socket>();
  const fails = (s: number): boolean => {
    const i = counters.get(s) ?? 0;
    counters.set(s, i + 1);
    return Math.floor((i + 1) * s) > Math.floor(i * s);
  };
  const server: Server = createServer((req, res) => {
    const match = FAULT_PATH.exec(req.url ?? '/');
    const s = match ? Math.min(100, Number(match[1])) / 100 : share;
    res.setHeader('x-origin', name);
    if (s > 0 && fails(s)) {
      counts.failed++;
      if (kind === 'reset') {
        req.socket.resetAndDestroy();
        return;
      }
      res.writeHead(503, { 'content-type': 'text/plain', 'x-fault': '1' });
      res.end('injected failure\n');
      return;
    }
    counts.ok++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ origin: name, path: req.url }));
  });
  server.keepAliveTimeout = 30_000;
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
    counts,
    setFailShare: (next) => {
      share = next;
    },
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
