/**
 * Graceful drain on SIGTERM (issue 10), real processes and sockets, in both process models
 * (`--workers 1` and `--workers 2`: primary + cluster workers; `--no-supervise`: one process):
 *
 * - A 2 s request started before SIGTERM completes with 200 on HTTP/3, HTTP/2 and HTTP/1.1;
 *   `/ready` is 503 during the drain; the HTTP/2 client gets GOAWAY, the HTTP/1.1 response
 *   carries `Connection: close`, an idle HTTP/1.1 keep-alive connection is closed at once, the
 *   HTTP/3 connection gets GOAWAY + CONNECTION_CLOSE once its request is done (the library
 *   cannot send GOAWAY alone, see README "Shutdown"); the process exits 0 as soon as nothing
 *   is in flight, and new connections are refused afterwards.
 * - Requests still running when `performance.shutdown_drain_timeout_ms` passes are cut
 *   (reset on every protocol, the origin sees its request cancelled) and the exit is prompt
 *   with code 0.
 *
 * The drain bound comes from the config key (no `--drain-timeout-ms` flag): that the short
 * bound of the second case cuts proves the key is honoured.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { type ClientHttp2Session, connect as h2connect } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, type TestContext, test } from 'node:test';
import type { Http3ClientSession } from '@currentspace/http3';
import { type CertFiles, ensureSelfSignedCert } from './harness/certs.ts';
import { adminReadyStatus, DataPlane, waitUntilReady } from './harness/data-plane.ts';
import { freePort } from './harness/free-port.ts';
import { connectH3, h3Request } from './harness/h3-client.ts';
import { type RawConnection, rawTls } from './harness/raw-tls.ts';

const SLOW_MS = 2000;
/** A longer request that keeps the drain open while connections made during it are checked. */
const HOLD_MS = 5000;
const SLACK_MS = 4000; // two shared cores: scheduling slack for bounds, never a synchronisation

/** `/slow?ms=N` answers 200 after N ms; counts arrivals and requests cancelled by the proxy. */
function slowOrigin() {
  let arrived = 0;
  let cancelled = 0;
  const waiters = new Set<() => void>();
  const notify = (): void => {
    for (const w of waiters) w();
  };
  const server: Server = createServer((req, res) => {
    req.resume();
    const ms = Number(new URL(req.url ?? '/', 'http://o').searchParams.get('ms') ?? '0');
    arrived++;
    notify();
    const timer = setTimeout(() => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`done ${req.url}`);
    }, ms);
    res.on('close', () => {
      clearTimeout(timer);
      if (!res.writableFinished) cancelled++;
      notify();
    });
  });
  server.keepAliveTimeout = 30_000;
  /** Resolves true once `ok()` holds (re-checked at each arrival / close), false after `ms`. */
  const until = (ok: () => boolean, ms: number): Promise<boolean> =>
    new Promise((resolve) => {
      if (ok()) return resolve(true);
      const check = (): void => {
        if (ok()) finish(true);
      };
      const finish = (v: boolean): void => {
        clearTimeout(timer);
        waiters.delete(check);
        resolve(v);
      };
      const timer = setTimeout(() => finish(ok()), ms);
      waiters.add(check);
    });
  return { server, arrived: () => arrived, cancelled: () => cancelled, until };
}

interface H2Reply {
  readonly status: number | null;
  readonly body: string;
  readonly error: string | null;
}

/** One GET on an HTTP/2 session; resolves (never rejects) with what came back, bounded. */
function h2Get(session: ClientHttp2Session, port: number, path: string, timeoutMs: number): Promise<H2Reply> {
  return new Promise((resolve) => {
    let status: number | null = null;
    let body = '';
    const req = session.request({ ':method': 'GET', ':path': path, ':authority': `localhost:${port}` });
    const timer = setTimeout(() => done('client timeout'), timeoutMs);
    const done = (error: string | null): void => {
      clearTimeout(timer);
      resolve({ status, body, error });
    };
    req.on('response', (h) => {
      status = Number(h[':status']);
    });
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      body += c;
    });
    req.on('error', (err: Error) => done((err as { code?: string }).code ?? err.message));
    let ended = false;
    req.on('end', () => {
      ended = true;
    });
    req.on('close', () => done(ended ? null : `closed before the end (rst ${req.rstCode})`));
    req.end();
  });
}

/** Resolves with the event's payload, or null after `ms`. */
function eventWithin<T>(emitter: { once(e: string, l: (v: T) => void): unknown }, event: string, ms: number): Promise<T | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), ms);
    emitter.once(event, (v: T) => {
      clearTimeout(timer);
      resolve(v);
    });
  });
}

/** True when a TCP connect to the port is refused (nothing listens), false when it connects. */
function tcpRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tcpConnect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (err: Error) => resolve((err as { code?: string }).code === 'ECONNREFUSED'));
  });
}

/** The HTTP/1.1 head of `conn`'s first response, lower-cased header names. */
function h1Head(conn: RawConnection): { status: number; headers: Map<string, string>; body: string } {
  const text = conn.received.toString('latin1');
  const [head = '', body = ''] = text.split('\r\n\r\n', 2);
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = new Map<string, string>();
  for (const l of lines) {
    const i = l.indexOf(':');
    headers.set(l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim());
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body };
}

const MODES: ReadonlyArray<{ name: string; extra: string[] }> = [
  { name: 'supervised (--workers 1)', extra: [] },
  { name: 'supervised (--workers 2)', extra: ['--workers', '2'] },
  { name: 'single process (--no-supervise)', extra: ['--no-supervise'] },
];

for (const mode of MODES) {
  describe(`drain on SIGTERM, ${mode.name}`, () => {
    let dir: string;
    let cert: CertFiles;
    let originUrl: string;
    const origin = slowOrigin();

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'spooky-drain-'));
      cert = ensureSelfSignedCert(join(dir, 'certs'));
      await new Promise<void>((resolve) => origin.server.listen(0, '127.0.0.1', resolve));
      originUrl = `http://127.0.0.1:${(origin.server.address() as AddressInfo).port}`;
    });

    after(async () => {
      origin.server.closeAllConnections();
      await new Promise<void>((resolve) => origin.server.close(() => resolve()));
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    async function startDataPlane(drainMs: number): Promise<{ dp: DataPlane; port: number }> {
      const port = await freePort();
      const path = join(dir, `spooky-${drainMs}.json`);
      writeFileSync(
        path,
        JSON.stringify({
          version: 1,
          listen: { address: '127.0.0.1', port, tls: { cert: cert.cert, key: cert.key } },
          upstream: { app: { route: { path_prefix: '/' }, backends: [{ id: 'o', address: originUrl }] } },
          performance: { shutdown_drain_timeout_ms: drainMs },
        }),
      );
      const dp = await DataPlane.start({ config: path, extra: mode.extra });
      await dp.proc.waitForLog((l) => l.msg === 'generation applied');
      return { dp, port };
    }

    test('in-flight requests on HTTP/3, HTTP/2 and HTTP/1.1 finish with 200; /ready 503; GOAWAY / Connection: close; exit 0; then refused', async (t: TestContext) => {
      const { dp, port } = await startDataPlane(10_000);
      let h3: Http3ClientSession | null = null;
      let h2: ClientHttp2Session | null = null;
      const conns: RawConnection[] = [];
      try {
        await waitUntilReady(dp.admin);
        // An idle HTTP/1.1 keep-alive connection (one request answered, then nothing).
        const idle = await rawTls(port);
        conns.push(idle);
        idle.write(`GET /slow?ms=0 HTTP/1.1\r\nhost: localhost:${port}\r\n\r\n`);
        assert.ok(await idle.waitUntil(() => idle.received.includes('done /slow?ms=0'), SLACK_MS), 'idle connection: first answer');
        assert.equal(idle.closed, false);

        h3 = await connectH3(port);
        const h3Goaway = eventWithin<unknown>(h3, 'goaway', SLOW_MS + SLACK_MS * 2).then((info) => ({ info, at: performance.now() }));
        const h3Closed = eventWithin<{ errorCode: number } | null>(h3, 'close', SLOW_MS + SLACK_MS * 2).then((info) => ({ info, at: performance.now() }));
        h2 = h2connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false, servername: 'localhost' });
        h2.on('error', () => undefined); // the outcome is read from the request and the events
        const h2Goaway = eventWithin<number>(h2, 'goaway', SLACK_MS * 2);
        const h1 = await rawTls(port);
        conns.push(h1);
        // Keeps the drain open long enough to check connections made during it.
        const holder = await rawTls(port);
        conns.push(holder);

        const before = origin.arrived();
        const h3Reply = h3Request(h3, port, { path: `/slow?ms=${SLOW_MS}&p=h3`, timeoutMs: SLOW_MS + SLACK_MS * 2 });
        const h2Reply = h2Get(h2, port, `/slow?ms=${SLOW_MS}&p=h2`, SLOW_MS + SLACK_MS * 2);
        h1.write(`GET /slow?ms=${SLOW_MS}&p=h1 HTTP/1.1\r\nhost: localhost:${port}\r\n\r\n`);
        holder.write(`GET /slow?ms=${HOLD_MS}&p=holder HTTP/1.1\r\nhost: localhost:${port}\r\n\r\n`);
        assert.ok(await origin.until(() => origin.arrived() >= before + 4, SLACK_MS), 'all four requests reached the origin');

        const signalledAt = performance.now();
        dp.proc.child.kill('SIGTERM');
        await dp.proc.waitForLog((l) => l.msg === 'data plane stopping', SLACK_MS);
        assert.equal(await adminReadyStatus(dp.admin), 503, '/ready is 503 during the drain');

        assert.ok(await idle.waitClosed(SLACK_MS), 'the idle keep-alive connection is closed at once');
        t.diagnostic(`idle HTTP/1.1 connection closed ${(performance.now() - signalledAt).toFixed(0)} ms after SIGTERM`);
        assert.notEqual(await h2Goaway, null, 'the HTTP/2 client got GOAWAY');

        // Connections made during the drain are served, and told to go: HTTP/1.1 with
        // Connection: close, HTTP/2 with GOAWAY alongside its first stream, QUIC closed after.
        const late1 = await rawTls(port);
        conns.push(late1);
        late1.write(`GET /slow?ms=0&p=late HTTP/1.1\r\nhost: localhost:${port}\r\n\r\n`);
        assert.ok(await late1.waitUntil(() => late1.received.includes('done /slow?ms=0&p=late'), SLACK_MS), 'a new HTTP/1.1 connection is served');
        assert.equal(h1Head(late1).headers.get('connection'), 'close');
        assert.ok(await late1.waitClosed(SLACK_MS), 'and closed after its response');
        const late2 = h2connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false, servername: 'localhost' });
        late2.on('error', () => undefined);
        const late2Goaway = eventWithin<number>(late2, 'goaway', SLACK_MS);
        const late2Reply = await h2Get(late2, port, '/slow?ms=0&p=late2', SLACK_MS);
        assert.deepEqual([late2Reply.status, late2Reply.body], [200, 'done /slow?ms=0&p=late2'], 'a new HTTP/2 connection has its first stream served');
        assert.notEqual(await late2Goaway, null, 'and gets GOAWAY with it');
        late2.destroy();
        const late3 = await connectH3(port);
        const late3Closed = eventWithin<{ errorCode: number }>(late3, 'close', SLACK_MS);
        const late3Reply = await h3Request(late3, port, { path: '/slow?ms=0&p=late3', timeoutMs: SLACK_MS });
        assert.equal(late3Reply.status, 200, 'a new QUIC connection is served');
        assert.equal((await late3Closed)?.errorCode, 0x100, 'and closed (H3_NO_ERROR) once its request is done');
        assert.equal(holder.closed, false, 'the drain is still running (the holder request is in flight)');

        const r3 = await h3Reply;
        assert.equal(r3.status, 200);
        assert.equal(r3.body.toString(), `done /slow?ms=${SLOW_MS}&p=h3`);
        const r2 = await h2Reply;
        assert.deepEqual([r2.status, r2.body, r2.error], [200, `done /slow?ms=${SLOW_MS}&p=h2`, null]);
        assert.ok(await h1.waitUntil(() => h1.received.includes(`done /slow?ms=${SLOW_MS}&p=h1`), SLACK_MS), 'the HTTP/1.1 answer');
        const head = h1Head(h1);
        assert.equal(head.status, 200);
        assert.equal(head.headers.get('connection'), 'close', 'HTTP/1.1 responses during the drain carry Connection: close');
        assert.ok(await h1.waitClosed(SLACK_MS), 'the HTTP/1.1 connection closes after its response');
        assert.ok(await holder.waitUntil(() => holder.received.includes('done /slow?ms=') , HOLD_MS + SLACK_MS), 'the holder request finishes too');
        assert.equal(h1Head(holder).status, 200);

        // HTTP/3: the connection is closed once its request is done, GOAWAY first.
        const goaway = await h3Goaway;
        assert.notEqual(goaway.info, null, 'the HTTP/3 client got GOAWAY');
        const closed = await h3Closed;
        assert.equal(closed.info?.errorCode, 0x100, 'the HTTP/3 connection was closed with H3_NO_ERROR');
        t.diagnostic(`HTTP/3 GOAWAY ${JSON.stringify(goaway.info)}, CONNECTION_CLOSE ${JSON.stringify(closed.info)} ${(closed.at - goaway.at).toFixed(0)} ms later`);

        const code = await Promise.race([dp.proc.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), SLACK_MS * 2).unref())]);
        const exitMs = performance.now() - signalledAt;
        assert.equal(code, 0, `exit code 0 after a clean drain\n${dp.proc.tail(40)}`);
        assert.ok(exitMs < HOLD_MS + SLACK_MS, `exited once nothing was in flight (${exitMs.toFixed(0)} ms), not at the drain bound`);
        t.diagnostic(`exited ${exitMs.toFixed(0)} ms after SIGTERM`);
        assert.ok(dp.proc.lines.some((l) => l.msg === 'data plane stopped' && l['code'] === 0));

        assert.equal(await tcpRefused(port), true, 'new TCP connections are refused after the drain');
        await assert.rejects(connectH3ForRefusal(port), 'a new QUIC connection gets no answer');
      } finally {
        await h3?.close().catch(() => undefined);
        h2?.destroy();
        for (const c of conns) c.destroy();
        await dp.proc.stop();
      }
    });

    test('requests still running at shutdown_drain_timeout_ms are cut; the exit is prompt with code 0', async (t: TestContext) => {
      const drainMs = 1500;
      const { dp, port } = await startDataPlane(drainMs);
      let h3: Http3ClientSession | null = null;
      let h2: ClientHttp2Session | null = null;
      let h1: RawConnection | null = null;
      try {
        h3 = await connectH3(port);
        h2 = h2connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false, servername: 'localhost' });
        h2.on('error', () => undefined);
        h1 = await rawTls(port);
        const before = origin.arrived();
        const cancelledBefore = origin.cancelled();
        const long = 60_000;
        const h3Reply = h3Request(h3, port, { path: `/slow?ms=${long}&p=h3`, timeoutMs: drainMs + SLACK_MS * 2 }).then(
          (r) => `status ${r.status}`,
          (err: Error) => `error ${err.message}`,
        );
        const h2Reply = h2Get(h2, port, `/slow?ms=${long}&p=h2`, drainMs + SLACK_MS * 2);
        h1.write(`GET /slow?ms=${long}&p=h1 HTTP/1.1\r\nhost: localhost:${port}\r\n\r\n`);
        assert.ok(await origin.until(() => origin.arrived() >= before + 3, SLACK_MS), 'all three requests reached the origin');

        const signalledAt = performance.now();
        dp.proc.child.kill('SIGTERM');
        await dp.proc.waitForLog((l) => l.msg === 'data plane stopping', SLACK_MS);
        assert.equal(await adminReadyStatus(dp.admin), 503);
        if (!mode.extra.includes('--no-supervise')) {
          // The worker told the supervisor the generation's bound (its hard stop follows it).
          const draining = await dp.proc.waitForLog((l) => l.msg === 'worker draining', SLACK_MS);
          assert.equal(draining['drainMs'], drainMs);
        }

        const code = await Promise.race([dp.proc.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), drainMs + SLACK_MS * 2).unref())]);
        const exitMs = performance.now() - signalledAt;
        assert.equal(code, 0, `exit code 0 after the drain bound\n${dp.proc.tail(40)}`);
        assert.ok(exitMs >= drainMs - 100, `waited for the drain bound (${exitMs.toFixed(0)} ms)`);
        assert.ok(exitMs < drainMs + SLACK_MS, `exited promptly after the bound (${exitMs.toFixed(0)} ms)`);
        t.diagnostic(`drain bound ${drainMs} ms, exited ${exitMs.toFixed(0)} ms after SIGTERM`);
        assert.equal(await tcpRefused(port), true, 'new TCP connections are refused after the drain bound');
        await assert.rejects(connectH3ForRefusal(port), 'a new QUIC connection gets no answer');

        const r3 = await h3Reply;
        assert.ok(r3.startsWith('error') || r3 === 'status 503', `HTTP/3 request cut: ${r3}`);
        const r2 = await h2Reply;
        // Destroyed under it: the client stream closes without a response (node may even call that an end).
        assert.ok(r2.status === null || r2.status === 503, `HTTP/2 request cut: ${JSON.stringify(r2)}`);
        assert.notEqual(r2.error, 'client timeout');
        assert.ok(await h1.waitClosed(SLACK_MS), 'the HTTP/1.1 connection was closed');
        const h1Statuses = h1.statuses();
        assert.ok(h1Statuses.length === 0 || h1Statuses[0] === 503, `HTTP/1.1 request cut: ${h1Statuses.join(',')}`);
        assert.ok(await origin.until(() => origin.cancelled() >= cancelledBefore + 3, SLACK_MS), 'the origin saw all three requests cancelled');
        t.diagnostic(`HTTP/3: ${r3}; HTTP/2: ${r2.error ?? `status ${r2.status}`}; HTTP/1.1: closed with ${h1.received.byteLength} bytes`);
        // One line per worker that had requests (with --workers 2 the kernel spreads them).
        const cutLogged = dp.proc.lines.filter((l) => l.msg === 'listener drained').reduce((n, l) => n + Number(l['cut']), 0);
        assert.equal(cutLogged, 3, 'the listeners logged three requests cut');
        const closedLine = dp.proc.lines.find((l) => l.msg === 'listener closed');
        t.diagnostic(`library server.close() after the cut took ${closedLine?.['closeMs']} ms`);
      } finally {
        await h3?.close().catch(() => undefined);
        h2?.destroy();
        h1?.destroy();
        await dp.proc.stop();
      }
    });
  });
}

/** A QUIC connect with a short bound: nothing answers on a closed port. */
async function connectH3ForRefusal(port: number): Promise<void> {
  const { connectAsync } = await import('@currentspace/http3');
  const session = await connectAsync(`127.0.0.1:${port}`, { rejectUnauthorized: false, servername: 'localhost', connectTimeoutMs: 2000 });
  session.on('error', () => undefined);
  await session.close().catch(() => undefined);
}
