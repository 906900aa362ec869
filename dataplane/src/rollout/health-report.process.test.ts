/**
 * Process test: a real data plane (`--workers 2`, control-plane mode) against an in-test
 * ConfigSync server built from @spooky/proto's service definition (the control plane itself may
 * not be imported here). Requests through both workers must come back, summed, in the Reports'
 * `generation_health`: the worker → primary health feed over the cluster IPC channel.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Server, ServerCredentials, type ServerDuplexStream } from '@grpc/grpc-js';
import { canonicalJson, digest } from '@spooky/config';
import { ConfigSyncService, type FromControlPlane, type FromDataPlane, type GenerationHealth, PushMode } from '@spooky/proto';
import { h1Request } from '../testing/clients.ts';
import { freeUdpTcpPort } from '../testing/free-port.ts';
import { LogLines } from '../testing/log-lines.ts';
import { makeSelfSignedCert } from '../testing/self-signed-cert.ts';

const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));
const REQUESTS = 120;

describe('per-generation health in Reports, summed over two workers', () => {
  let origin: HttpServer;
  let grpc: Server;
  let child: ChildProcess;
  let logs: LogLines;
  let port: number;
  let admin: string;
  let cacheDir: string;
  let genDigest: string;
  const windows: GenerationHealth[] = [];
  let onReport: () => void = () => undefined;
  let acked: () => void = () => undefined;
  const ackedOnce = new Promise<void>((resolve) => {
    acked = resolve;
  });

  before(async () => {
    origin = createServer((req, res) => {
      res.writeHead(req.url === '/busy' ? 503 : 200, { 'content-type': 'text/plain' });
      res.end('origin');
    });
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', () => resolve()));
    const cert = makeSelfSignedCert();
    port = await freeUdpTcpPort();
    const payload = Buffer.from(
      canonicalJson({
        version: 1,
        listen: { protocol: 'http3', address: '127.0.0.1', port, tls: { cert: cert.certPath, key: cert.keyPath } },
        upstream: { app: { route: { path_prefix: '/' }, backends: [{ id: 'app-1', address: `http://127.0.0.1:${(origin.address() as AddressInfo).port}` }] } },
      }),
    );
    genDigest = digest(payload);
    grpc = new Server();
    grpc.addService(ConfigSyncService, {
      session(call: ServerDuplexStream<FromDataPlane, FromControlPlane>) {
        call.on('error', () => undefined);
        call.on('data', (m: FromDataPlane) => {
          const msg = m.msg;
          if (msg?.$case === 'hello') {
            call.write({ msg: { $case: 'welcome', value: { sessionId: 'test', reportIntervalMs: 200 } } });
            call.write({
              msg: {
                $case: 'push',
                value: {
                  nonce: 'n1',
                  target: { scope: 'test', seq: 1, digest: genDigest },
                  payload,
                  chunkCount: 0,
                  totalSize: payload.length,
                  encoding: '',
                  decodedSize: 0,
                  mode: PushMode.PUSH_MODE_SERVE,
                  canary: undefined,
                },
              },
            });
          } else if (msg?.$case === 'ack') acked();
          else if (msg?.$case === 'report') {
            windows.push(...msg.value.generationHealth);
            onReport();
          }
        });
      },
    });
    const grpcPort = await new Promise<number>((resolve, reject) =>
      grpc.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    cacheDir = mkdtempSync(join(tmpdir(), 'spooky-health-report-'));
    child = spawn(
      process.execPath,
      [MAIN, '--control-plane', `127.0.0.1:${grpcPort}`, '--node-id', 'n1', '--scope', 'test', '--cache-dir', cacheDir, '--admin', '127.0.0.1:0', '--workers', '2', '--drain-timeout-ms', '1000'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    logs = new LogLines(child);
    admin = String((await logs.waitForMsg('data plane started'))['admin']);
    await withTimeout(ackedOnce, 20_000, () => 'the data plane did not ACK the push');
  });

  after(async () => {
    if (child !== undefined && child.exitCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    grpc?.forceShutdown();
    await new Promise<void>((resolve) => origin.close(() => resolve()));
    if (cacheDir !== undefined) rmSync(cacheDir, { recursive: true, force: true });
  });

  it('every request reaches a Report once, with upstream 5xx and latency counts, from both workers', async () => {
    let busy = 0;
    for (let i = 0; i < REQUESTS; i += 10) {
      // New TCP connections (agent: false) so the primary spreads them over the workers.
      const batch = Array.from({ length: 10 }, (_, j) => {
        const path = (i + j) % 6 === 0 ? '/busy' : '/';
        if (path === '/busy') busy++;
        return h1Request(port, 'GET', path);
      });
      const replies = await Promise.all(batch);
      assert.ok(replies.every((r) => r.status === 200 || r.status === 503));
    }
    const total = () => windows.filter((w) => w.generation?.digest === genDigest).reduce((a, w) => a + w.requests, 0);
    await withTimeout(
      new Promise<void>((resolve) => {
        const check = () => {
          if (total() >= REQUESTS) resolve();
        };
        onReport = check;
        check();
      }),
      15_000,
      () => `Reports carried ${total()} of ${REQUESTS} requests`,
    );
    const mine = windows.filter((w) => w.generation?.digest === genDigest);
    assert.equal(total(), REQUESTS, 'counted once each');
    assert.equal(
      mine.reduce((a, w) => a + w.upstream5xx, 0),
      busy,
    );
    assert.equal(
      mine.reduce((a, w) => a + w.local5xx, 0),
      0,
    );
    for (const w of mine) {
      assert.equal(
        w.latencyBucketCounts.reduce((a, b) => a + b, 0),
        w.requests,
      );
      assert.ok(w.fromUnixMs <= w.toUnixMs);
    }
    const metrics = await (await fetch(`${admin}/metrics`)).text();
    const perWorker = [...metrics.matchAll(/spooky_worker_requests_total\{worker="(\d)"\} (\d+)/g)].map((m) => Number(m[2]));
    assert.equal(perWorker.length, 2);
    assert.ok(
      perWorker.every((n) => n > 0),
      `both workers served (${perWorker.join(', ')})`,
    );
  });
});

async function withTimeout<T>(p: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(what())), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
