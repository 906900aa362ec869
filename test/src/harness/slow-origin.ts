/**
 * An HTTP/1.1 origin that answers every request after `delayMs` (`x-origin: <name>`, body
 * `slow <name>`) and records the requests its peer cancelled: the request's connection closed
 * before the response finished. `nextCancel()` resolves at the next one (callers bound the
 * wait), so a test can wait on the event instead of sleeping.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlowOrigin {
  readonly port: number;
  readonly url: string;
  /** Requests received. */
  readonly seen: () => number;
  /** Requests cancelled by the peer before the response finished. */
  readonly cancelled: () => number;
  /** Resolves at the next cancellation, or rejects after `timeoutMs`. */
  nextCancel(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

export async function startSlowOrigin(name: string, delayMs: number): Promise<SlowOrigin> {
  let seen = 0;
  let cancelled = 0;
  const waiters: (() => void)[] = [];
  const server = createServer((req, res) => {
    seen++;
    req.resume();
    const timer = setTimeout(() => {
      res.setHeader('x-origin', name);
      res.end(`slow ${name}`);
    }, delayMs);
    res.on('close', () => {
      clearTimeout(timer);
      if (res.writableFinished) return;
      cancelled++;
      for (const w of waiters.splice(0)) w();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    seen: () => seen,
    cancelled: () => cancelled,
    nextCancel: (timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name}: no cancellation within ${timeoutMs} ms`)), timeoutMs);
        timer.unref(); // a wait nobody awaits any more must not hold the test process
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
