/**
 * The per-connection identity sticky-cid hashes (PeerBook, library-internals.ts): the same for
 * every request of one QUIC connection, different across connections, null on the TCP side
 * (HTTP/2), where sticky-cid falls back to the client address:port.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { connectAsync, type Http3ClientSession, type IncomingHeaders } from '@currentspace/http3';
import type { Exchange } from '../../http/exchange.ts';
import { h2Request } from '../../testing/clients.ts';
import { openTestListener } from '../../testing/test-listener.ts';
import type { ServingListener } from '../serving-listener.ts';

async function reportConnection(exchange: Exchange): Promise<void> {
  exchange.response.sendHead(200, [['content-type', 'application/json']], false);
  exchange.response.write(Buffer.from(JSON.stringify({ connectionId: exchange.connectionId ?? null })));
  exchange.response.end();
}

async function idOver(session: Http3ClientSession, port: number): Promise<string | null> {
  const stream = session.request({ ':method': 'GET', ':scheme': 'https', ':authority': `localhost:${port}`, ':path': '/' }, { endStream: true });
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  const ended = once(stream, 'end');
  const [headers] = (await once(stream, 'response')) as [IncomingHeaders];
  await ended;
  assert.equal(Number(headers[':status']), 200);
  return (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { connectionId: string | null }).connectionId;
}

describe('connection identity for sticky-cid', () => {
  let listener: ServingListener;
  let port: number;

  before(async () => {
    ({ listener, port } = await openTestListener(reportConnection));
  });
  after(() => listener.close(0));

  it('is stable within a QUIC connection and differs across connections', async () => {
    const ids: Array<string | null> = [];
    for (let c = 0; c < 2; c++) {
      const session = await connectAsync(`127.0.0.1:${port}`, { rejectUnauthorized: false });
      session.on('error', () => {});
      try {
        const first = await idOver(session, port);
        assert.match(String(first), /^[0-9a-f]{8}\.[0-9a-z]+$/);
        assert.equal(await idOver(session, port), first);
        assert.equal(await idOver(session, port), first);
        ids.push(first);
      } finally {
        await session.close();
      }
    }
    assert.notEqual(ids[0], ids[1]);
  });

  it('is null over HTTP/2 (sticky-cid then keys on address:port)', async () => {
    const reply = await h2Request(port, 'GET', '/');
    assert.equal((JSON.parse(reply.body) as { connectionId: unknown }).connectionId, null);
  });
});
