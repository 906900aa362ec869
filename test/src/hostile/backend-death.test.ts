/**
 * A backend dying mid-body: the origin sends a 200 head declaring 1 MiB, 64 KiB of it, and then
 * destroys its connection (HTTP/1.1 origin: the socket; HTTP/2 origin: the session). Whatever
 * the client protocol, the client must be able to tell the body is incomplete — its stream is
 * reset / its connection aborted, never a clean end of a short body (or a 502 if the head was
 * not sent yet) — and the process must stay up. Each combination is repeated a few times.
 */
import assert from 'node:assert/strict';
import { connect as h2connect, constants as h2constants } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { after, before, describe, test } from 'node:test';
import { DECLARED_BYTES } from '../harness/dying-origin.ts';
import { connectH3 } from '../harness/h3-client.ts';
import { HostileFleet } from '../harness/hostile-fleet.ts';

const ANSWER_BOUND_MS = 5000;
const REPEATS = 5;

interface Ending {
  readonly status: number;
  readonly bytes: number;
  /** 'clean' = a normal end of stream; anything else names how it ended. */
  readonly end: string;
}

function bounded(what: string, run: (done: (e: Ending) => void) => void): Promise<Ending> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ status: 0, bytes: 0, end: `no end within ${ANSWER_BOUND_MS} ms (${what})` }), ANSWER_BOUND_MS);
    let settled = false;
    run((e) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(e);
    });
  });
}

function viaH1(port: number, path: string): Promise<Ending> {
  return bounded('h1', (done) => {
    let status = 0;
    let bytes = 0;
    const req = httpsRequest({ host: '127.0.0.1', port, path, rejectUnauthorized: false, agent: false, headers: { host: `localhost:${port}` } }, (res) => {
      status = res.statusCode ?? 0;
      res.on('data', (c: Buffer) => {
        bytes += c.length;
      });
      res.on('aborted', () => done({ status, bytes, end: 'aborted' }));
      res.on('error', (err) => done({ status, bytes, end: (err as { code?: string }).code ?? err.message }));
      res.on('end', () => done({ status, bytes, end: res.complete ? 'clean' : 'incomplete' }));
    });
    req.on('error', (err) => done({ status, bytes, end: (err as { code?: string }).code ?? err.message }));
    req.end();
  });
}

function viaH2(port: number, path: string): Promise<Ending> {
  const session = h2connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false, servername: 'localhost' });
  session.on('error', () => {});
  return bounded('h2', (done) => {
    let status = 0;
    let bytes = 0;
    let ended = false;
    const req = session.request({ ':method': 'GET', ':path': path, ':authority': `localhost:${port}` }, { endStream: true });
    req.on('response', (h) => {
      status = Number(h[':status']);
    });
    req.on('data', (c: Buffer) => {
      bytes += c.length;
    });
    req.on('end', () => {
      ended = true;
    });
    req.on('error', (err) => done({ status, bytes, end: (err as { code?: string }).code ?? err.message }));
    req.on('close', () => done({ status, bytes, end: req.rstCode !== undefined && req.rstCode !== h2constants.NGHTTP2_NO_ERROR ? `rst(${req.rstCode})` : ended ? 'clean' : 'closed' }));
  }).finally(() => session.destroy());
}

async function viaH3(port: number, path: string): Promise<Ending> {
  const session = await connectH3(port);
  try {
    const stream = await session.requestAsync({ ':method': 'GET', ':scheme': 'https', ':path': path, ':authority': `localhost:${port}` }, { endStream: true });
    return await bounded('h3', (done) => {
      let status = 0;
      let bytes = 0;
      stream.on('response', (h: Record<string, string | string[]>) => {
        status = Number(h[':status']);
      });
      stream.on('data', (c: Buffer) => {
        bytes += c.length;
      });
      stream.on('end', () => done({ status, bytes, end: 'clean' }));
      stream.on('error', (err: Error) => done({ status, bytes, end: `reset(${(err as { code?: string }).code ?? err.message})` }));
      session.on('close', () => done({ status, bytes, end: 'session closed' }));
    });
  } finally {
    await session.close().catch(() => {});
  }
}

/**
 * The client could tell: a gateway error before the head, an abnormal end of a short body, or
 * just a reset (HTTP/3: a RESET_STREAM lets the peer discard stream data not yet delivered,
 * the response HEADERS frame included, so a client may see the reset alone).
 */
function wrong(e: Ending): string | null {
  if (e.end.startsWith('no end')) return e.end;
  if (e.status === 502 || e.status === 503 || e.status === 504) return null;
  if (e.status === 0 && e.end !== 'clean') return null;
  if (e.status !== 200) return `status ${e.status} (${e.end})`;
  if (e.bytes >= DECLARED_BYTES) return `a complete body from a dead origin (${e.bytes} bytes)`;
  if (e.end === 'clean') return `a short body (${e.bytes} of ${DECLARED_BYTES} bytes) ended as if complete`;
  return null;
}

describe('a backend dying mid-body, against a real data plane', () => {
  let fleet: HostileFleet;

  before(async () => {
    fleet = await HostileFleet.start('backend-death');
  });

  after(async () => {
    await fleet?.stop();
  });

  test(`HTTP/1.1 and HTTP/2 origins dying mid-body, to HTTP/1.1, HTTP/2 and HTTP/3 clients, ×${REPEATS}`, async () => {
    await fleet.runCase('backend-dies-mid-body', {}, async () => {
      const problems: string[] = [];
      const endings = new Set<string>();
      for (let i = 0; i < REPEATS; i++) {
        for (const origin of ['/die-h1', '/die-h2']) {
          for (const [client, run] of [['h1', viaH1], ['h2', viaH2], ['h3', viaH3]] as const) {
            const e = await run(fleet.port, `${origin}/body-${i}`);
            endings.add(`${client}:${e.status}:${e.end}`);
            const p = wrong(e);
            if (p !== null) problems.push(`${origin} → ${client}: ${p}`);
          }
        }
      }
      assert.deepEqual([...new Set(problems)], []);
      return [...endings].sort().join(',');
    });
  });
});
