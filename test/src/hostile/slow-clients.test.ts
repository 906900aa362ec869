/**
 * Hostile clients that hold connections without sending a request: TCP connections that never
 * send a TLS ClientHello, TLS connections that send nothing, slowloris (an HTTP/1.1 request
 * head dripped a byte at a time, never finished), HTTP/2 connections that open no stream, QUIC
 * connections that open no stream, and 200 idle QUIC connections at once. The suite's config
 * sets `tls_handshake_timeout_ms` 800 and `client_header_timeout_ms` 1000: the server must
 * close every one of them within that bound plus `SLACK_MS`, while others keep being served.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connectAsync, type Http3ClientSession } from '@currentspace/http3';
import { H2FrameClient } from '../harness/h2-frames.ts';
import { HostileFleet, SUITE_PERFORMANCE } from '../harness/hostile-fleet.ts';
import { type RawConnection, rawTcp, rawTls } from '../harness/raw-tls.ts';

const SLACK_MS = 3000; // generous: the machine runs the attacker, the server and the well-behaved client on 2 cores
const HANDSHAKE_MS = SUITE_PERFORMANCE['tls_handshake_timeout_ms']!;
const HEADER_MS = SUITE_PERFORMANCE['client_header_timeout_ms']!;

/** Every connection closed by the server within `boundMs` of opening? Returns the longest lifetime (ms). */
async function allClosedWithin(conns: readonly RawConnection[], boundMs: number, what: string): Promise<number> {
  const openedAt = Math.min(...conns.map((c) => c.openedAt));
  await Promise.all(conns.map((c) => c.waitClosed(Math.max(0, openedAt + boundMs - Date.now()))));
  const open = conns.filter((c) => !c.closed).length;
  for (const c of conns) c.destroy();
  assert.equal(open, 0, `${open} of ${conns.length} ${what} still open ${boundMs} ms after opening`);
  return Math.max(...conns.map((c) => c.lifetimeMs ?? 0));
}

interface IdleQuic {
  readonly session: Http3ClientSession | null;
  readonly refused: boolean;
  readonly openedAt: number;
  closedAt: number | null;
}

/** Opens `n` QUIC connections (handshake done, no stream), `batch` at a time; the client's own idle timeout is long. */
async function openIdleQuic(port: number, n: number, batch: number): Promise<IdleQuic[]> {
  const out: IdleQuic[] = [];
  for (let i = 0; i < n; i += batch) {
    const opened = await Promise.all(Array.from({ length: Math.min(batch, n - i) }, async (): Promise<IdleQuic> => {
      const openedAt = Date.now();
      try {
        const session = await connectAsync(`127.0.0.1:${port}`, { rejectUnauthorized: false, servername: 'localhost', maxIdleTimeoutMs: 60_000, connectTimeoutMs: 5000 });
        session.on('error', () => {});
        const entry: IdleQuic = { session, refused: false, openedAt, closedAt: null };
        session.on('close', () => {
          entry.closedAt = Date.now();
        });
        return entry;
      } catch {
        // Refused at once (a connection cap or rate limit) is an acceptable answer too.
        return { session: null, refused: true, openedAt, closedAt: Date.now() };
      }
    }));
    out.push(...opened);
  }
  return out;
}

/** Waits (bounded) until the server closed every idle QUIC connection; returns [closed-by-server, refused]. */
async function quicClosedWithin(conns: IdleQuic[], boundMs: number): Promise<[number, number]> {
  const deadline = Math.max(...conns.map((c) => c.openedAt)) + boundMs;
  while (conns.some((c) => c.closedAt === null) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const open = conns.filter((c) => c.closedAt === null);
  await Promise.all(conns.map((c) => c.session?.close().catch(() => {})));
  assert.equal(open.length, 0, `${open.length} of ${conns.length} QUIC connections with no stream still open ${boundMs} ms after opening`);
  const refused = conns.filter((c) => c.refused).length;
  return [conns.length - refused, refused];
}

describe('hostile slow and idle clients against a real data plane', () => {
  let fleet: HostileFleet;

  before(async () => {
    fleet = await HostileFleet.start('slow-clients');
  });

  after(async () => {
    await fleet?.stop();
  });

  test('50 TCP connections that never send a ClientHello are closed within the handshake timeout', async () => {
    await fleet.runCase('tcp-no-clienthello', {}, async () => {
      const conns = await Promise.all(Array.from({ length: 50 }, () => rawTcp(fleet.port)));
      const longest = await allClosedWithin(conns, HANDSHAKE_MS + SLACK_MS, 'silent TCP connections');
      return `closed(max ${longest} ms)`;
    });
  });

  test('20 TLS connections that send no request are closed within the header timeout', async () => {
    await fleet.runCase('tls-no-request', {}, async () => {
      const conns = await Promise.all(Array.from({ length: 20 }, () => rawTls(fleet.port)));
      const longest = await allClosedWithin(conns, HEADER_MS + SLACK_MS, 'silent TLS connections');
      return `closed(max ${longest} ms)`;
    });
  });

  test('slowloris: 20 HTTP/1.1 heads dripped a byte every 200 ms are cut at the header timeout', async () => {
    await fleet.runCase('tcp-slowloris', {}, async () => {
      const conns = await Promise.all(Array.from({ length: 20 }, () => rawTls(fleet.port)));
      const head = Buffer.from(`GET /slow HTTP/1.1\r\nHost: localhost:${fleet.port}\r\nX-Slow: ${'a'.repeat(200)}`, 'latin1');
      let sent = 0;
      const drip = setInterval(() => {
        for (const c of conns) c.write(head.subarray(sent, sent + 1));
        sent = Math.min(sent + 1, head.length - 1);
      }, 200);
      try {
        const longest = await allClosedWithin(conns, HEADER_MS + SLACK_MS, 'slowloris connections');
        const statuses = [...new Set(conns.flatMap((c) => c.statuses()))];
        assert.ok(statuses.every((s) => s === 408 || s === 400), `slowloris answered ${JSON.stringify(statuses)}`);
        assert.equal(fleet.target.requests.filter((r) => r.path === '/slow').length, 0, 'an unfinished head reached the origin');
        return `${statuses.length > 0 ? statuses.join('/') : 'closed'}(max ${longest} ms, ${sent} bytes dripped)`;
      } finally {
        clearInterval(drip);
      }
    });
  });

  test('10 HTTP/2 connections that open no stream are closed within the header timeout', async () => {
    await fleet.runCase('h2-no-stream', {}, async () => {
      const clients = await Promise.all(Array.from({ length: 10 }, () => H2FrameClient.connect(fleet.port)));
      const longest = await allClosedWithin(clients.map((c) => c.conn), HEADER_MS + SLACK_MS, 'HTTP/2 connections without a stream');
      const goaway = clients.filter((c) => c.goawayCode !== null).length;
      return `closed(max ${longest} ms, ${goaway} with GOAWAY)`;
    });
  });

  test('20 QUIC connections that open no stream are closed within the header timeout', async () => {
    await fleet.runCase('quic-no-stream', {}, async () => {
      const conns = await openIdleQuic(fleet.port, 20, 20);
      const [closed, refused] = await quicClosedWithin(conns, HEADER_MS + SLACK_MS);
      return `closed=${closed} refused=${refused}`;
    });
  });

  test('200 idle QUIC connections: bounded memory, others served, all closed within the header timeout', async () => {
    await fleet.runCase('quic-200-idle', {}, async () => {
      const conns = await openIdleQuic(fleet.port, 200, 10);
      const [closed, refused] = await quicClosedWithin(conns, HEADER_MS + SLACK_MS);
      return `closed=${closed} refused=${refused}`;
    });
  });
});
