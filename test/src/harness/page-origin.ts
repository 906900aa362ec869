/**
 * An HTTP/1.1 origin serving a small web page for browser tests. `/index.html` links a
 * stylesheet, two scripts and two images, then its inline script defines:
 *  - `window.spookyDone`: a promise of a PageReport — three fetches (JSON, one the origin
 *    answers after `slowMs`, a POST echo), awaited with the load event, then the navigation
 *    and every resource timing entry with its `nextHopProtocol`;
 *  - `window.spookyUntilH3(max)`: fetches `/api/data?try=N` one after another until one went
 *    over h3 (at most `max`); resolves with the protocols seen.
 * Every response is `cache-control: no-store`, so a second navigation fetches everything again
 * (a cached entry would not show the protocol of the current connection).
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ResourceEntry {
  /** Path and query. */
  readonly name: string;
  readonly type: string;
  readonly protocol: string;
}

export interface PageReport {
  readonly navProtocol: string;
  readonly resources: readonly ResourceEntry[];
  readonly scriptsRan: readonly boolean[];
  readonly altSvc: string | null;
  readonly dataOk: boolean;
  readonly slowText: string;
  readonly slowMs: number;
  readonly echoText: string;
}

export interface UpgradeReport {
  readonly tries: number;
  readonly protocols: readonly string[];
}

export interface PageOrigin {
  readonly url: string;
  /** Requests received, by path. */
  readonly seen: () => ReadonlyMap<string, number>;
  close(): Promise<void>;
}

/** How long browser tests have the origin hold `/api/slow`. */
export const PAGE_SLOW_MS = 2000;

/** The paths index.html loads besides itself (subresources and fetches). */
export const PAGE_SUBRESOURCES = ['/static/site.css', '/static/a.js', '/static/b.js', '/static/one.gif', '/static/two.gif', '/api/data', '/api/slow', '/api/echo'];

const GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>spooky</title>
<link rel="stylesheet" href="/static/site.css"><script src="/static/a.js"></script></head>
<body><img src="/static/one.gif" alt=""><img src="/static/two.gif" alt=""><script src="/static/b.js"></script>
<script>
const pathOf = (u) => { const x = new URL(u); return x.pathname + x.search; };
const entries = () => performance.getEntriesByType('resource').map((e) => ({ name: pathOf(e.name), type: e.initiatorType, protocol: e.nextHopProtocol }));
window.spookyDone = (async () => {
  const loaded = document.readyState === 'complete' ? null : new Promise((r) => addEventListener('load', r, { once: true }));
  const data = await fetch('/api/data');
  const dataOk = (await data.json()).ok === true;
  const t0 = performance.now();
  const slowText = await (await fetch('/api/slow')).text();
  const slowMs = performance.now() - t0;
  const echoText = await (await fetch('/api/echo', { method: 'POST', body: 'ping', headers: { 'content-type': 'text/plain' } })).text();
  await loaded;
  return { navProtocol: performance.getEntriesByType('navigation')[0].nextHopProtocol, resources: entries(),
    scriptsRan: [window.spookyA === true, window.spookyB === true], altSvc: data.headers.get('alt-svc'), dataOk, slowText, slowMs, echoText };
})();
window.spookyUntilH3 = async (max) => {
  const protocols = [];
  for (let i = 0; i < max; i++) {
    await (await fetch('/api/data?try=' + i)).text();
    const e = performance.getEntriesByName(location.origin + '/api/data?try=' + i)[0];
    protocols.push(e ? e.nextHopProtocol : 'unknown');
    if (protocols[i] === 'h3') return { tries: i + 1, protocols };
  }
  return { tries: max, protocols };
};
</script></body></html>`;

function send(res: ServerResponse, type: string, body: string | Buffer): void {
  res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export async function startPageOrigin(slowMs: number): Promise<PageOrigin> {
  const seen = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://origin').pathname;
    seen.set(path, (seen.get(path) ?? 0) + 1);
    if (path === '/api/echo') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => send(res, 'text/plain', Buffer.concat(chunks)));
      return;
    }
    req.resume();
    if (path === '/api/slow') {
      const timer = setTimeout(() => {
        timers.delete(timer);
        send(res, 'text/plain', 'slow done');
      }, slowMs);
      timers.add(timer);
      res.on('close', () => {
        clearTimeout(timer);
        timers.delete(timer);
      });
      return;
    }
    if (path === '/' || path === '/index.html') return send(res, 'text/html; charset=utf-8', PAGE);
    if (path === '/static/site.css') return send(res, 'text/css', 'body { font-family: sans-serif; }');
    if (path === '/static/a.js') return send(res, 'text/javascript', 'window.spookyA = true;');
    if (path === '/static/b.js') return send(res, 'text/javascript', 'window.spookyB = true;');
    if (path === '/static/one.gif' || path === '/static/two.gif') return send(res, 'image/gif', GIF);
    if (path === '/api/data') return send(res, 'application/json', JSON.stringify({ ok: true }));
    res.writeHead(404, { 'cache-control': 'no-store', 'content-length': 0 });
    res.end();
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen: () => seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
