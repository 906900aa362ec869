/**
 * Child process: the direct HTTP/3 origin, on the same library the data plane serves with
 * (@currentspace/http3), answering the workload contract itself (workloads.ts). It is the
 * limit the proxies are measured against, so it uses the library's cheapest path: one
 * `respondWithBody` call for a complete body up to 64 KiB, `respond` + `end` above.
 * Prints `{"port": n}` once listening on 127.0.0.1; exits on SIGTERM. On SIGUSR2 prints one line
 * `{"stats": k, "loopP50Ms", "loopP99Ms", "loopMaxMs", "gcMs", "gcMajorMs", "gcCount"}` (k counts the
 * signals: event-loop delay sampled every 10 ms and GC pauses since the previous SIGUSR2, then
 * reset) — the same facts the data plane's runtime stall metrics give, for the stall bench.
 *
 *   node bench/src/proxy/direct-origin-main.ts <cert.pem> <key.pem>
 */
import { readFileSync } from 'node:fs';
import { constants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { createSecureServer, type IncomingHeaders, type ServerHttp3Stream } from '@currentspace/http3';
import { freePort } from '../../../test/src/harness/free-port.ts';
import { bodyForPath } from './workloads.ts';

const [certPath, keyPath] = process.argv.slice(2);
if (!certPath || !keyPath) throw new Error('usage: direct-origin-main.ts <cert> <key>');

const ONE_CALL_MAX = 64 * 1024;

function send(stream: ServerHttp3Stream, body: Buffer): void {
  const headers = { ':status': '200', 'content-type': 'application/octet-stream', 'content-length': String(body.length) };
  if (body.length <= ONE_CALL_MAX) {
    stream.respondWithBody(headers, body);
  } else {
    stream.respond(headers);
    stream.end(body);
  }
}

function onStream(stream: ServerHttp3Stream, headers: IncomingHeaders): void {
  stream.on('error', () => {});
  const method = headers[':method'];
  const path = String(headers[':path'] ?? '');
  if (method === 'POST' && path === '/echo') {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => send(stream, Buffer.concat(chunks)));
    return;
  }
  const body = method === 'GET' ? bodyForPath(path) : null;
  if (!body) {
    stream.respondWithBody({ ':status': '404', 'content-length': '0' }, Buffer.alloc(0));
    return;
  }
  // A GET's request side is already finished; reading it lets the stream close.
  stream.resume();
  send(stream, body);
}

const cert = readFileSync(certPath);
const key = readFileSync(keyPath);
process.on('SIGTERM', () => process.exit(0));
const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();
let gcMs = 0;
let gcMajorMs = 0;
let gcCount = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gcMs += e.duration;
    if ((e as { readonly detail?: { readonly kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) gcMajorMs += e.duration;
    gcCount++;
  }
}).observe({ entryTypes: ['gc'] });
let statsSeq = 0;
process.on('SIGUSR2', () => {
  const ms = (ns: number): number => (loop.count === 0 ? 0 : ns / 1e6);
  console.log(JSON.stringify({ stats: ++statsSeq, loopP50Ms: ms(loop.percentile(50)), loopP99Ms: ms(loop.percentile(99)), loopMaxMs: ms(loop.max), gcMs, gcMajorMs, gcCount }));
  loop.reset();
  gcMs = 0;
  gcMajorMs = 0;
  gcCount = 0;
});
// The library binds UDP first and then TCP (its HTTP/2 fallback) on the same number; a port
// that is free for UDP may be taken for TCP (this kind of machine keeps many TIME-WAIT
// sockets), so a port is chosen for both and the bind retried with a new server.
for (let attempt = 1; ; attempt++) {
  const server = createSecureServer({ cert, key });
  server.on('stream', onStream);
  server.on('session', (session) => session.on('error', () => {}));
  try {
    const port = await freePort();
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
      server.listen(port, '127.0.0.1');
    });
    console.log(JSON.stringify({ port: server.address()?.port }));
    break;
  } catch (err) {
    await server.close().catch(() => {});
    if (attempt >= 5) throw err;
  }
}
