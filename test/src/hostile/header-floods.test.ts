/**
 * Hostile clients, header floods: 10 000 headers, and one 1 MB header, over HTTP/1.1 (raw TLS),
 * HTTP/2 (raw frames: a HEADERS frame and CONTINUATIONs, which node:http2's client would refuse
 * to send) and HTTP/3 (the library's client). Each must get a 431 or a refusal of the stream
 * or connection (RST_STREAM / GOAWAY / close) within a bound — never any other answer, and the
 * serving process must not grow by the size of the block (RSS bound).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { H2FrameClient, headerBlock, headersFrames } from '../harness/h2-frames.ts';
import { connectH3 } from '../harness/h3-client.ts';
import { HostileFleet, MiB } from '../harness/hostile-fleet.ts';
import { rawTls } from '../harness/raw-tls.ts';

const ANSWER_BOUND_MS = 5000;

type Flood = ReadonlyArray<readonly [string, string]>;
const FLOODS: ReadonlyArray<{ readonly name: string; readonly fields: Flood }> = [
  { name: '10000-headers', fields: Array.from({ length: 10_000 }, (_, i) => [`x-flood-${i}`, 'v'] as const) },
  { name: '1mb-header', fields: [['x-big', 'a'.repeat(MiB)]] },
];

async function h1Flood(fleet: HostileFleet, fields: Flood): Promise<string> {
  const conn = await rawTls(fleet.port);
  const head = `GET /flood HTTP/1.1\r\nHost: localhost:${fleet.port}\r\n${fields.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`;
  conn.write(Buffer.from(head, 'latin1'));
  await conn.waitUntil(() => conn.statuses().length > 0, ANSWER_BOUND_MS);
  await conn.waitClosed(ANSWER_BOUND_MS);
  conn.destroy();
  const statuses = conn.statuses();
  assert.ok(statuses.length === 0 ? conn.closed : statuses[0] === 431 && statuses.length === 1, `HTTP/1.1 answered ${JSON.stringify(statuses)}, closed=${conn.closed}`);
  return statuses.length === 0 ? 'closed' : String(statuses[0]);
}

async function h2Flood(fleet: HostileFleet, fields: Flood): Promise<string> {
  const client = await H2FrameClient.connect(fleet.port);
  const block = headerBlock([[':method', 'GET'], [':scheme', 'https'], [':path', '/flood'], [':authority', `localhost:${fleet.port}`], ...fields]);
  client.write(headersFrames(1, block, true));
  const answered = await client.conn.waitUntil(() => client.statusOn.has(1) || client.resetOn.has(1) || client.goawayCode !== null || client.conn.closed, ANSWER_BOUND_MS);
  client.destroy();
  const status = client.statusOn.get(1);
  assert.ok(answered, 'HTTP/2: no answer to the flood within the bound');
  assert.ok(status === undefined || status === 431, `HTTP/2 answered ${status}`);
  if (status === undefined) assert.ok(!client.headersOn.has(1), 'HTTP/2 answered with a status this client could not read');
  return status !== undefined ? String(status) : client.resetOn.has(1) ? 'rst_stream' : client.goawayCode !== null ? `goaway(${client.goawayCode})` : 'closed';
}

async function h3Flood(fleet: HostileFleet, fields: Flood): Promise<string> {
  const session = await connectH3(fleet.port);
  try {
    const headers: Record<string, string> = { ':method': 'GET', ':scheme': 'https', ':authority': `localhost:${fleet.port}`, ':path': '/flood' };
    for (const [n, v] of fields) headers[n] = v;
    const outcome = await new Promise<string>((resolve) => {
      const timer = setTimeout(() => resolve('no answer'), ANSWER_BOUND_MS);
      const done = (what: string): void => {
        clearTimeout(timer);
        resolve(what);
      };
      session.on('close', () => done('closed'));
      session.requestAsync(headers, { endStream: true, timeoutMs: ANSWER_BOUND_MS }).then((stream) => {
        stream.on('response', (h: Record<string, string | string[]>) => done(String(h[':status'])));
        stream.on('error', (err: Error) => done(`reset(${(err as { code?: string }).code ?? err.message})`));
        stream.on('close', () => done('reset(closed)'));
        stream.resume();
      }, (err: Error) => done(`refused(${(err as { code?: string }).code ?? err.message})`));
    });
    assert.ok(outcome === '431' || outcome.startsWith('reset') || outcome === 'closed', `HTTP/3 answered ${outcome}`);
    return outcome;
  } finally {
    await session.close().catch(() => {});
  }
}

describe('hostile header floods over HTTP/1.1, HTTP/2 and HTTP/3 against a real data plane', () => {
  let fleet: HostileFleet;

  before(async () => {
    fleet = await HostileFleet.start('header-floods');
  });

  after(async () => {
    await fleet?.stop();
  });

  for (const flood of FLOODS) {
    test(`HTTP/1.1 ${flood.name} → 431 or closed`, () => fleet.runCase(`h1-${flood.name}`, {}, () => h1Flood(fleet, flood.fields)));
    test(`HTTP/2 ${flood.name} → 431, RST_STREAM or GOAWAY`, () => fleet.runCase(`h2-${flood.name}`, {}, () => h2Flood(fleet, flood.fields)));
    test(`HTTP/3 ${flood.name} → 431 or the stream/connection refused`, () => fleet.runCase(`h3-${flood.name}`, {}, () => h3Flood(fleet, flood.fields)));
  }

  test('the origin never saw a flooded request', () => {
    assert.deepEqual(fleet.target.requests.filter((r) => r.path === '/flood').map((r) => Object.keys(r.headers).length), []);
  });
});

