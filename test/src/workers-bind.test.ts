/**
 * End to end, `--workers 2`: a listener port that something else holds, then frees
 * (dataplane/src/bootstrap/cluster-listen-guard.ts). Regression test for the bind retry that
 * killed both workers: under node:cluster the TLS TCP listener's handle comes from the
 * primary; a bind that failed there (libuv reports EADDRINUSE only at listen) used to stay in
 * node's cluster tables, and the next listen on that address — the control plane's retry of
 * the NACKed generation, or a later one — threw ERR_INTERNAL_ASSERTION in every worker, and
 * the generation was refused for good as `generation.crashed_while_applying`.
 *
 * - Generation 1 names a port a plain TCP server of this test holds: every worker refuses it
 *   (`listener.bind_failed`, retryable), the NACK reaches the control plane, and its retries
 *   (1 s backoff, the port still held) are refused the same way; no worker exits.
 * - The port freed, generation 2 (same listener) is applied by both workers — the same two
 *   pids as at start — and both serve it: HTTP/3 over 16 connections (the kernel spreads them
 *   by 4-tuple hash; both pids in the access log) and HTTP/1.1 over TLS on the TCP side.
 * - A new default certificate on that port (a certificate swap in each worker: a new QUIC
 *   server beside the old one, the TCP socket kept): under TCP connects and HTTP/3 requests in
 *   a loop, not one TCP connection is refused and no HTTP/3 request is answered with an error
 *   (requests lost with a re-hashed QUIC connection are counted: a kernel limit); both
 *   workers apply it and close their previous server; then every new TLS and QUIC handshake
 *   presents the new certificate (and QUIC never the old one); no worker exits.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { connectAsync, type Http3ClientSession } from '@currentspace/http3';
import { type CertFiles, ensureSelfSignedCert } from './harness/certs.ts';
import { adminGeneration, DataPlane } from './harness/data-plane.ts';
import { eventually } from './harness/eventually.ts';
import { freePort } from './harness/free-port.ts';
import { connectH3, h3Fetch, h3Request } from './harness/h3-client.ts';
import { type Origin, startH1Origin } from './harness/origins.ts';
import { ControlPlane } from './harness/planes.ts';
import { bounded } from './harness/spawned-process.ts';
import { TriClient } from './harness/tri-client.ts';

const SCOPE = 'workers-bind';
const NODE = 'dp-workers-bind';
const CONNECTIONS = 16;
/** Concurrent HTTP/3 request loops during the certificate swap. */
const LOAD_LOOPS = 8;

interface NodeView {
  lastNack: { seq: number; phase: string; retryable: boolean; issues: { pointer: string; code: string; message: string }[] } | null;
}

/** Holds 127.0.0.1:port for TCP (no SO_REUSEPORT), as another program on the host would. */
function holdTcp(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.destroy());
    server.once('error', reject);
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve(server));
  });
}

describe('--workers 2: a listener bind that fails, then succeeds once the port is free', () => {
  let dir: string;
  let cert: CertFiles;
  let h1: Origin;
  let cp: ControlPlane;
  let dp: DataPlane;
  let port: number;
  let holder: Server | null = null;
  /** The two workers' pids, from the supervisor's "worker started" lines. */
  let workerPids: number[] = [];

  const config = (tag: string, tls: CertFiles = cert) => ({
    version: 1,
    listen: { address: '127.0.0.1', port, tls: { cert: tls.cert, key: tls.key } },
    upstream: { app: { route: { path_prefix: '/' }, backends: [{ id: `o-${tag}`, address: h1.url }] } },
  });
  const exits = () => dp.proc.lines.filter((l) => l.msg === 'worker exited' || l.msg === 'worker failed to start');

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spooky-workers-bind-'));
    cert = ensureSelfSignedCert(join(dir, 'certs'));
    h1 = await startH1Origin('origin-workers-bind');
    port = await freePort();
    holder = await holdTcp(port);
    cp = await ControlPlane.start(join(dir, 'cp'), { reportIntervalMs: 500 });
    assert.equal(await cp.pushAndActivate(SCOPE, config('one'), 'workers-bind: port held'), 1);
    dp = await DataPlane.start({ controlPlane: cp.grpc, nodeId: NODE, scope: SCOPE, cacheDir: join(dir, 'cache'), extra: ['--workers', '2'] });
    await dp.proc.waitForLog((l) => l.msg === 'worker ready' && l['pid'] !== dp.workerPid, 20_000);
    workerPids = dp.proc.lines.filter((l) => l.msg === 'worker started').map((l) => Number(l['workerPid']));
  });

  // Every step bounded; a data plane that logged a crash fails stop(), and the rest still runs.
  after(async () => {
    if (holder) await bounded(new Promise<void>((resolve) => holder?.close(() => resolve())), 5_000, 'close the port holder').catch(() => {});
    try {
      await dp?.proc.stop();
    } finally {
      await cp?.proc.stop();
      await bounded(h1?.close() ?? Promise.resolve(), 5_000, 'close the origin').catch(() => {});
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the held port: every worker refuses the generation (listener.bind_failed, retryable), retries too, and none exits', async () => {
    assert.equal(workerPids.length, 2, 'two workers started');
    // Each worker logs its own refusal; the control plane retries a retryable NACK after 1 s.
    const refusals = () => dp.proc.lines.filter((l) => l.msg === 'generation rejected' && l['seq'] === 1 && l['pid'] !== dp.pid);
    await eventually('two rounds of refusals of seq 1 (the push and a retry)', () => (refusals().length >= 4 ? true : undefined), {
      timeoutMs: 20_000,
      last: () => refusals().length,
    });
    for (const r of refusals()) {
      assert.equal(r['retryable'], true);
      assert.deepEqual(
        (r['issues'] as { pointer: string; code: string }[]).map((i) => [i.pointer, i.code]),
        [['/listeners/0/port', 'listener.bind_failed']],
      );
    }
    assert.deepEqual(new Set(refusals().map((r) => Number(r['pid']))), new Set(workerPids), 'both workers refused it');
    const nack = await eventually(
      'the NACK of seq 1 on the control plane',
      async () => {
        const node = await cp.api<NodeView>('GET', `/v1/nodes/${NODE}`);
        return node.body.lastNack?.seq === 1 ? node.body.lastNack : undefined;
      },
      { timeoutMs: 10_000 },
    );
    assert.equal(nack.retryable, true);
    assert.equal(nack.issues[0]?.code, 'listener.bind_failed');
    assert.match(nack.issues[0]?.message ?? '', new RegExp(`cannot bind 127\\.0\\.0\\.1:${port}: EADDRINUSE`));
    assert.deepEqual(exits(), [], 'no worker exited');
    assert.equal(dp.proc.lines.some((l) => l.msg === 'crashed while applying a generation'), false);
    assert.equal((await adminGeneration(dp.admin)).serving, null, 'nothing served while the port is held');
  });

  test('the port freed: the same two workers apply the next generation and serve on the port (HTTP/3 and HTTP/1.1 over TLS)', async (t) => {
    await bounded(new Promise<void>((resolve) => holder?.close(() => resolve())), 5_000, 'close the port holder');
    holder = null;
    const from = dp.proc.lines.length;
    assert.equal(await cp.pushAndActivate(SCOPE, config('two'), 'workers-bind: port free'), 2);
    const all = await dp.proc.waitForLog((l) => l.msg === 'generation applied by all workers' && l['seq'] === 2, 20_000, from);
    assert.deepEqual([...(all['workers'] as number[])].sort(), [...workerPids].sort(), 'applied by the workers that started');
    const view = await adminGeneration(dp.admin);
    assert.equal(view.serving?.seq, 2);
    assert.deepEqual(view.listeners, [{ address: '127.0.0.1', port }]);

    const served = dp.proc.lines.length;
    const sessions: Http3ClientSession[] = [];
    try {
      for (let i = 0; i < CONNECTIONS; i++) sessions.push(await connectH3(port));
      const statuses = await Promise.all(sessions.map((s, i) => h3Request(s, port, { path: `/b${i}/h3`, timeoutMs: 10_000 }).then((r) => r.status)));
      assert.deepEqual(statuses, sessions.map(() => 200));
    } finally {
      await Promise.all(sessions.map((s) => bounded(s.close(), 5_000, 'close an HTTP/3 session').catch(() => {})));
    }
    const tri = new TriClient(port);
    const h1Statuses: number[] = [];
    try {
      // One TCP connection per request: the workers accept from the shared socket.
      for (let i = 0; i < 8; i++) h1Statuses.push((await tri.request('h1', { path: `/b${i}/h1`, timeoutMs: 10_000 })).status);
    } finally {
      await bounded(tri.close(), 5_000, 'close the client').catch(() => {});
    }
    assert.deepEqual(h1Statuses, h1Statuses.map(() => 200));

    // The access log is written by the worker that served; flushed lines may trail the answers.
    const pidsOf = (suffix: string) =>
      new Set(
        dp.proc.lines
          .slice(served)
          .filter((l) => l.msg === 'request' && typeof l['path'] === 'string' && l['path'].endsWith(suffix))
          .map((l) => Number(l['pid'])),
      );
    const logged = (suffix: string, n: number) =>
      dp.proc.lines.slice(served).filter((l) => l.msg === 'request' && typeof l['path'] === 'string' && l['path'].endsWith(suffix)).length >= n;
    await eventually('every request in the access log', () => (logged('/h3', CONNECTIONS) && logged('/h1', 8) ? true : undefined), { timeoutMs: 10_000 });
    t.diagnostic(`workers-bind: HTTP/3 served by ${[...pidsOf('/h3')].join(', ')}; HTTP/1.1 by ${[...pidsOf('/h1')].join(', ')}`);
    assert.deepEqual(pidsOf('/h3'), new Set(workerPids), 'both workers serve HTTP/3 on the port');
    for (const pid of pidsOf('/h1')) assert.ok(workerPids.includes(pid), `HTTP/1.1 served by a worker that started (${pid})`);
    assert.deepEqual(exits(), [], 'no worker exited');
    assert.equal((await fetch(`${dp.admin}/ready`, { signal: AbortSignal.timeout(5_000) })).status, 200);
  });

  test('a new default certificate on that port: both workers swap it in (same pids), no TCP connection refused, no HTTP/3 request answered with an error, new handshakes get it', async (t) => {
    const renewed = ensureSelfSignedCert(join(dir, 'certs-renewed'));
    const expected = new X509Certificate(readFileSync(renewed.cert)).fingerprint256;
    assert.notEqual(expected, new X509Certificate(readFileSync(cert.cert)).fingerprint256);
    // Load during the swap: TCP connects in a loop (the shared TCP socket must never close)
    // and HTTP/3 requests, each on a new QUIC connection, from LOAD_LOOPS loops (a connection
    // the kernel hashes to the old server's socket is served by it until it closes).
    let loading = true;
    const probes = { accepted: 0, refused: 0 };
    // `answeredBadly`: a response other than 200 (a defect). `lost`: a request whose retry also
    // failed at the connection level: the kernel re-hashes UDP flows each time a server joins
    // or leaves the port's SO_REUSEPORT group, and a QUIC connection whose packets move to the
    // other server is lost (README, "Limit (library and kernel …)"). Counted, not asserted.
    const h3 = { ok: 0, retried: [] as string[], answeredBadly: [] as string[], lost: [] as string[] };
    const probe = (async () => {
      while (loading) {
        if (await tcpConnects(port)) probes.accepted++;
        else probes.refused++;
      }
    })();
    // A client's retry, as RFC 9114 §5.2 allows and browsers do: a request the server did not
    // process (rejected by GOAWAY) or whose connection was lost is sent once more on a new
    // connection. Counted and printed.
    const h3Load = Array.from({ length: LOAD_LOOPS }, async (_, loop) => {
      for (let i = 0; loading; i++) {
        for (let attempt = 1; ; attempt++) {
          try {
            const reply = await h3Fetch(port, { path: `/s${loop}-${i}/h3`, timeoutMs: 5_000 });
            if (reply.status === 200) h3.ok++;
            else h3.answeredBadly.push(`status ${reply.status}`);
            break;
          } catch (err) {
            const message = (err as Error).message;
            if (attempt === 2) {
              h3.lost.push(message);
              break;
            }
            h3.retried.push(message);
          }
        }
      }
    });
    const from = dp.proc.lines.length;
    try {
      assert.equal(await cp.pushAndActivate(SCOPE, config('three', renewed), 'workers-bind: renewed certificate'), 3);
      await dp.proc.waitForLog((l) => l.msg === 'generation applied by all workers' && l['seq'] === 3, 20_000, from);
      // Each worker's old server drains, closes and releases its UDP sockets.
      const retired = () => new Set(dp.proc.lines.slice(from).filter((l) => l.msg === 'listener certificate swapped: previous server closed').map((l) => Number(l['pid'])));
      await eventually('both workers closed their previous server', () => (retired().size === 2 ? true : undefined), { timeoutMs: 20_000, last: () => [...retired()] });
      assert.deepEqual(retired(), new Set(workerPids));
    } finally {
      loading = false;
      await bounded(Promise.all([probe, ...h3Load]), 15_000, 'the load during the swap');
    }
    t.diagnostic(`workers-bind swap: TCP connects ${probes.accepted} accepted, ${probes.refused} refused; HTTP/3 requests ${h3.ok} answered, ${h3.retried.length} retried (${[...new Set(h3.retried)].join('; ')}), ${h3.lost.length} lost after the retry (${[...new Set(h3.lost)].join('; ')})`);
    assert.equal(probes.refused, 0, 'no TCP connection refused during the swap');
    assert.ok(probes.accepted > 0 && h3.ok > 0, 'the load ran');
    assert.deepEqual(h3.answeredBadly, [], 'every HTTP/3 request answered during the swap answered 200');
    const applied = dp.proc.lines.slice(from).filter((l) => l.msg === 'generation applied' && l['seq'] === 3);
    assert.deepEqual(new Set(applied.map((l) => Number(l['pid']))), new Set(workerPids), 'both workers applied it');

    const served: string[] = [];
    for (let i = 0; i < 8; i++) served.push(await peerFingerprint(port));
    assert.deepEqual(served, served.map(() => expected), 'every new TLS handshake gets the renewed certificate');
    // QUIC: a handshake verifies against the renewed certificate only (the library's client
    // gives no peer certificate; verification against one self-signed CA is the check).
    const quic: boolean[] = [];
    for (let i = 0; i < CONNECTIONS; i++) quic.push(await quicVerifies(port, renewed.cert));
    assert.deepEqual(quic, quic.map(() => true), 'every new QUIC handshake gets the renewed certificate');
    assert.equal(await quicVerifies(port, cert.cert), false, 'no QUIC handshake gets the previous one');
    const sessions: Http3ClientSession[] = [];
    try {
      for (let i = 0; i < CONNECTIONS; i++) sessions.push(await connectH3(port));
      const statuses = await Promise.all(sessions.map((s, i) => h3Request(s, port, { path: `/r${i}/h3`, timeoutMs: 10_000 }).then((r) => r.status)));
      assert.deepEqual(statuses, sessions.map(() => 200));
    } finally {
      await Promise.all(sessions.map((s) => bounded(s.close(), 5_000, 'close an HTTP/3 session').catch(() => {})));
    }
    assert.deepEqual(exits(), [], 'no worker exited');
  });
});

/** true when a fresh QUIC handshake to 127.0.0.1:port verifies against the certificate in `caPath`. */
async function quicVerifies(port: number, caPath: string): Promise<boolean> {
  try {
    const session = await bounded(connectAsync(`127.0.0.1:${port}`, { servername: 'localhost', ca: readFileSync(caPath), rejectUnauthorized: true, connectTimeoutMs: 5_000 }), 6_000, 'a QUIC handshake');
    session.on('error', () => {});
    await bounded(session.close(), 5_000, 'close a QUIC session').catch(() => {});
    return true;
  } catch {
    return false;
  }
}

/** One TCP connect to 127.0.0.1:port, closed at once: true when accepted within 2 s. */
function tcpConnects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.setTimeout(2_000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The SHA-256 fingerprint of the certificate a fresh TLS handshake (SNI localhost) presents. */
function peerFingerprint(port: number): Promise<string> {
  return bounded(
    new Promise<string>((resolve, reject) => {
      const socket = tlsConnect({ port, host: '127.0.0.1', servername: 'localhost', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
      socket.once('secureConnect', () => {
        const fingerprint = socket.getPeerX509Certificate()?.fingerprint256 ?? '';
        socket.destroy();
        resolve(fingerprint);
      });
      socket.once('error', reject);
    }),
    5_000,
    'a TLS handshake',
  );
}
