/**
 * Hostile clients, HTTP/2 rapid reset (CVE-2023-44487): 10 000 HEADERS + RST_STREAM(CANCEL)
 * pairs on one connection, as raw frames (node:http2's client paces its writes and may never
 * put a cancelled stream's HEADERS on the wire). The server must answer with GOAWAY or close
 * the connection before the flood is through, stay up (also seconds later: the upstream pool
 * used to crash the process ~10 s after such a flood) and keep serving others on time.
 * Once against an HTTP/2 upstream, once against an HTTP/1.1 one.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { H2FrameClient, headerBlock, headersFrames, rstStreamFrame } from '../harness/h2-frames.ts';
import { HostileFleet } from '../harness/hostile-fleet.ts';

const PAIRS = 10_000;
const BATCH = 500;
const ANSWER_BOUND_MS = 5000;
const MAX_CONNECTIONS = 20;

/** Sends up to `max` HEADERS+RST_STREAM pairs (stopping once the server hung up); returns the count sent. */
async function flood(client: H2FrameClient, port: number, path: string, max: number): Promise<number> {
  const block = headerBlock([[':method', 'GET'], [':scheme', 'https'], [':path', path], [':authority', `localhost:${port}`]]);
  let sent = 0;
  while (sent < max && !client.conn.closed && client.goawayCode === null) {
    const frames: Buffer[] = [];
    for (let i = 0; i < BATCH && sent < max; i++, sent++) {
      const id = 2 * sent + 1;
      frames.push(headersFrames(id, block, true), rstStreamFrame(id));
    }
    const socket = client.conn.socket;
    if (socket.destroyed) break;
    if (!socket.write(Buffer.concat(frames))) {
      await client.conn.waitUntil(() => socket.writableLength === 0, ANSWER_BOUND_MS);
    }
  }
  return sent;
}

/**
 * The attacker's loop: flood a connection until the server hangs up, reconnect, go on until
 * PAIRS pairs went out (at most MAX_CONNECTIONS connections). Every connection must end in a
 * GOAWAY or a close within the bound.
 */
async function floodAcrossConnections(fleet: HostileFleet, path: string): Promise<string> {
  const started = Date.now();
  let total = 0;
  const endings: string[] = [];
  for (let c = 0; c < MAX_CONNECTIONS && total < PAIRS; c++) {
    const client = await H2FrameClient.connect(fleet.port);
    const sent = await flood(client, fleet.port, path, PAIRS - total);
    total += sent;
    const hungUp = await client.waitGoawayOrClose(ANSWER_BOUND_MS);
    client.destroy();
    if (sent === PAIRS && !hungUp) endings.push('open');
    else {
      assert.ok(hungUp, `connection ${c}: no GOAWAY and no close ${ANSWER_BOUND_MS} ms after ${sent} reset streams`);
      endings.push(client.goawayCode !== null ? `goaway(${client.goawayCode})` : 'closed');
    }
  }
  assert.ok(endings.every((e) => e !== 'open'), `a connection took all ${PAIRS} reset streams without a GOAWAY`);
  return `${[...new Set(endings)].join('/')} x${endings.length} connections, ${total} pairs in ${Date.now() - started} ms`;
}

describe('hostile HTTP/2 rapid reset against a real data plane', () => {
  let fleet: HostileFleet;

  before(async () => {
    fleet = await HostileFleet.start('rapid-reset');
  });

  after(async () => {
    await fleet?.stop();
  });

  test(`${PAIRS} HEADERS+RST_STREAM (reconnecting on GOAWAY), HTTP/2 upstream → GOAWAY or close; no crash seconds later`, async () => {
    await fleet.runCase('h2-rapid-reset-h2-upstream', { settleMs: 4000 }, () => floodAcrossConnections(fleet, '/h2/rapid-reset'));
  });

  test(`${PAIRS} HEADERS+RST_STREAM (reconnecting on GOAWAY), HTTP/1.1 upstream → GOAWAY or close`, async () => {
    await fleet.runCase('h2-rapid-reset-h1-upstream', { settleMs: 1000 }, () => floodAcrossConnections(fleet, '/rapid-reset'));
  });
});
