/**
 * What an HTTP/2 upstream costs the data plane's undici side against an HTTP/1.1 one, without
 * any Spooky code (plain node script; bench/README.md "HTTP/2 upstreams"):
 *
 *   node bench/src/h2-upstream.bench.ts [--rounds 3] [--ms 3000] [--bytes 1048576] [--inflight 8]
 *     [--variants h1,h1-tls,h2,h2-conn-window,h2-spooky] (also h2-win2m, h2-conn4, h2-conn8)
 *
 * One origin process (node:http cleartext, node:https HTTP/1.1 over TLS, node:http2 over TLS,
 * each answering --bytes from one prebuilt Buffer) and, per cell, a client child process: one
 * undici Pool with the variant's options, --inflight requests in flight through `dispatch()`
 * with a handler that drops every body chunk (the data plane's ForwardHandler shape). The
 * child reports its own CPU µs per request, body chunks per response and their mean size.
 * Cells rotate over the variants for --rounds; the table holds medians. The origin's CPU is
 * not counted: this isolates the client (the proxy's upstream side).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseBenchArgs } from './proxy/bench-args.ts';

const USAGE = 'usage: node bench/src/h2-upstream.bench.ts [--rounds 3] [--ms 3000] [--bytes 1048576] [--inflight 8] [--variants a,b]';
const values = parseBenchArgs({
    rounds: { type: 'string', default: '3' },
    ms: { type: 'string', default: '3000' },
    bytes: { type: 'string', default: String(1 << 20) },
    inflight: { type: 'string', default: '8' },
    variants: { type: 'string', default: 'h1,h1-tls,h2,h2-conn-window,h2-spooky' },
    child: { type: 'string' },
    origin: { type: 'string' },
    ports: { type: 'string' },
    dir: { type: 'string' },
  }, USAGE);

/** Client variants: scheme of the origin it talks to and the undici Pool options. */
const VARIANTS: Record<string, { readonly origin: 'h1' | 'h1tls' | 'h2'; readonly options: Record<string, unknown> }> = {
  h1: { origin: 'h1', options: {} },
  'h1-tls': { origin: 'h1tls', options: { allowH2: false } },
  h2: { origin: 'h2', options: { allowH2: true } },
  // The data plane before its stream window was raised: connection window 4 MiB only.
  'h2-conn-window': { origin: 'h2', options: { allowH2: true, h2Options: { connectionWindowSize: 4 * 1024 * 1024 } } },
  // What the data plane builds (H2_OPTIONS in dataplane/src/forwarding/undici-transport.ts).
  'h2-spooky': { origin: 'h2', options: { allowH2: true, h2Options: { connectionWindowSize: 4 * 1024 * 1024, initialWindowSize: 1024 * 1024 } } },
  'h2-win2m': { origin: 'h2', options: { allowH2: true, h2Options: { connectionWindowSize: 8 * 1024 * 1024, initialWindowSize: 2 * 1024 * 1024 } } },
  // Streams spread over 4 connections (at most 2 streams each) instead of one connection.
  'h2-conn4': { origin: 'h2', options: { allowH2: true, connections: 4, h2Options: { connectionWindowSize: 4 * 1024 * 1024, maxConcurrentStreams: 2 } } },
  'h2-conn8': { origin: 'h2', options: { allowH2: true, connections: 8, h2Options: { connectionWindowSize: 4 * 1024 * 1024, maxConcurrentStreams: 1 } } },
};

interface CellReport {
  readonly requests: number;
  readonly cpuUsPerRequest: number;
  readonly chunksPerResponse: number;
  readonly meanChunkBytes: number;
  /** Kernel (system) CPU µs per request, part of cpuUsPerRequest. */
  readonly sysUsPerRequest: number;
}

async function runOrigin(dir: string, bytes: number): Promise<void> {
  const http = await import('node:http');
  const https = await import('node:https');
  const http2 = await import('node:http2');
  const cert = readFileSync(join(dir, 'o.crt'));
  const key = readFileSync(join(dir, 'o.key'));
  const body = Buffer.alloc(bytes, 1);
  const h1 = (_req: unknown, res: import('node:http').ServerResponse): void => {
    res.writeHead(200, { 'content-length': body.length });
    res.end(body);
  };
  const s1 = http.createServer({ keepAliveTimeout: 120_000 }, h1);
  const s1t = https.createServer({ cert, key, keepAliveTimeout: 120_000 }, h1);
  const s2 = http2.createSecureServer({ cert, key, allowHTTP1: false });
  s2.on('stream', (stream) => {
    stream.on('error', () => {});
    stream.respond({ ':status': 200, 'content-length': body.length });
    stream.end(body);
  });
  const listen = (s: import('node:net').Server): Promise<number> =>
    new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as import('node:net').AddressInfo).port)));
  const ports = { h1: await listen(s1), h1tls: await listen(s1t), h2: await listen(s2) };
  process.on('SIGTERM', () => process.exit(0));
  console.log(JSON.stringify(ports));
}

async function runClient(variant: string, ports: Record<string, number>, dir: string, ms: number, inflight: number): Promise<void> {
  const { Pool } = await import('undici');
  // As the data plane runs (dataplane/src/runtime/gc-tuning.ts).
  (await import('node:v8')).setFlagsFromString('--external-memory-accounted-in-global-limit');
  const spec = VARIANTS[variant];
  if (spec === undefined) throw new Error(`unknown variant ${variant}`);
  const tls = spec.origin !== 'h1';
  const url = `${tls ? 'https' : 'http'}://127.0.0.1:${ports[spec.origin]}`;
  const pool = new Pool(url, { ...spec.options, ...(tls ? { connect: { ca: readFileSync(join(dir, 'o.crt')) } } : {}) });
  let chunks = 0;
  let chunkBytes = 0;
  const once = (): Promise<void> =>
    new Promise((resolve, reject) => {
      pool.dispatch(
        { path: '/', method: 'GET' },
        {
          onRequestStart() {},
          onResponseStart() {},
          onResponseData(_c: unknown, chunk: Buffer) {
            chunks++;
            chunkBytes += chunk.length;
          },
          onResponseEnd() {
            resolve();
          },
          onResponseError(_c: unknown, err: Error) {
            reject(err);
          },
        },
      );
    });
  // Warm-up: connections open, TLS handshakes done, before the window.
  await Promise.all(Array.from({ length: inflight }, once));
  chunks = 0;
  chunkBytes = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let requests = 0;
  const loop = async (): Promise<void> => {
    while (performance.now() - t0 < ms) {
      await once();
      requests++;
    }
  };
  await Promise.all(Array.from({ length: inflight }, loop));
  const cpu = process.cpuUsage(cpu0);
  const report: CellReport = {
    requests,
    cpuUsPerRequest: (cpu.user + cpu.system) / requests,
    chunksPerResponse: chunks / requests,
    meanChunkBytes: chunkBytes / chunks,
    sysUsPerRequest: cpu.system / requests,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
  process.exit(0);
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

async function runParent(rounds: number, ms: number, bytes: number, inflight: number, variants: readonly string[]): Promise<void> {
  for (const v of variants) if (VARIANTS[v] === undefined) throw new Error(`unknown variant ${v} (${Object.keys(VARIANTS).join(',')})`);
  const dir = mkdtempSync(join(tmpdir(), 'h2-upstream-'));
  spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=origin',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'o.key'), '-out', join(dir, 'o.crt')], { stdio: 'ignore' });
  const origin = spawn(process.execPath, [process.argv[1] as string, '--origin', '1', '--dir', dir, '--bytes', String(bytes)], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('origin did not start in 10 s')), 10_000);
      createInterface({ input: origin.stdout }).once('line', (l) => {
        clearTimeout(timer);
        resolve(l);
      });
    });
    const cells = new Map<string, CellReport[]>(variants.map((v) => [v, []]));
    for (let r = 0; r < rounds; r++) {
      const order = variants.map((_, i) => variants[(i + r) % variants.length] as string);
      for (const v of order) {
        const out = spawnSync(process.execPath, [process.argv[1] as string, '--child', v, '--ports', line, '--dir', dir, '--ms', String(ms), '--inflight', String(inflight)], {
          encoding: 'utf8',
          timeout: ms + 30_000,
        });
        if (out.status !== 0) throw new Error(`child ${v} failed (${out.status}): ${out.stderr}`);
        cells.get(v)?.push(JSON.parse(out.stdout.trim().split('\n').pop() as string) as CellReport);
      }
    }
    console.log(`undici upstream side, ${bytes}-byte bodies, ${inflight} in flight, ${rounds} rounds × ${ms} ms, Node ${process.version}\n`);
    console.log('| variant | requests | CPU µs/req | of which kernel | ÷ first | body chunks / response | mean chunk bytes |');
    console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
    const base = median((cells.get(variants[0] as string) ?? []).map((c) => c.cpuUsPerRequest));
    for (const [v, cs] of cells) {
      const cpu = median(cs.map((c) => c.cpuUsPerRequest));
      console.log(`| ${v} | ${median(cs.map((c) => c.requests))} | ${cpu.toFixed(0)} | ${median(cs.map((c) => c.sysUsPerRequest)).toFixed(0)} | ${(cpu / base).toFixed(2)} | ${median(cs.map((c) => c.chunksPerResponse)).toFixed(1)} | ${median(cs.map((c) => c.meanChunkBytes)).toFixed(0)} |`);
    }
  } finally {
    origin.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

const ms = Number(values.ms);
const bytes = Number(values.bytes);
const rounds = Number(values.rounds);
const inflight = Number(values.inflight);
if (!(ms > 0) || !(bytes > 0) || !(rounds >= 1) || !(inflight >= 1)) throw new Error(USAGE);
if (values.origin !== undefined) await runOrigin(values.dir as string, bytes);
else if (values.child !== undefined) await runClient(values.child, JSON.parse(values.ports as string) as Record<string, number>, values.dir as string, ms, inflight);
else await runParent(rounds, ms, bytes, inflight, (values.variants as string).split(','));
