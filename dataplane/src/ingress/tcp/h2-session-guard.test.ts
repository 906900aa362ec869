import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type ClientHttp2Session, constants, connect as h2connect } from 'node:http2';
import { describe, it } from 'node:test';
import type { Exchange } from '../../http/exchange.ts';
import { h2Request } from '../../testing/clients.ts';
import { recordingGuards, within } from '../../testing/connection-probes.ts';
import { openTestListener } from '../../testing/test-listener.ts';
import { H2_RESETS_BURST } from './h2-session-guard.ts';

describe('HTTP/2 session guard', () => {
  it('answers a rapid-reset flood with GOAWAY ENHANCE_YOUR_CALM while another client keeps getting 200s', async (t) => {
    let handled = 0;
    const guards = recordingGuards({});
    const { listener, port } = await openTestListener(async (exchange: Exchange) => {
      handled++;
      // Like a forwarded request: the answer takes a moment, so resets land first.
      await new Promise((resolve) => setTimeout(resolve, 5));
      exchange.response.sendHead(200, [], true);
    }, guards);
    let flooding = true;
    let good = 0;
    const wellBehaved = (async () => {
      while (flooding) {
        const reply = await h2Request(port, 'GET', '/');
        assert.equal(reply.status, 200);
        good++;
      }
    })();
    const attacker = h2connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
    try {
      attacker.on('error', () => {});
      const goaway = new Promise<number>((resolve) => attacker.once('goaway', (code: number) => resolve(code)));
      // Not events.once: the attacker's session also emits 'error' (code 11), which would reject it.
      const closed = new Promise<void>((resolve) => attacker.once('close', () => resolve()));
      await once(attacker, 'connect');
      const sent = await flood(attacker, 10_000);
      const code = await within(5000, 'GOAWAY', goaway);
      await within(5000, 'attacker closed', closed);
      flooding = false;
      await within(10_000, 'well-behaved client done', wellBehaved);
      t.diagnostic(`rapid reset: ${sent} HEADERS+RST_STREAM sent, ${handled} reached the handler, well-behaved client got ${good} × 200`);
      assert.equal(code, constants.NGHTTP2_ENHANCE_YOUR_CALM);
      assert.ok(handled <= H2_RESETS_BURST + 200, `${handled} requests reached the handler`);
      assert.ok(good >= 1, 'the well-behaved client was served during the flood');
      assert.ok(guards.closed.includes('h2_rapid_reset'));
      assert.equal((await h2Request(port, 'GET', '/')).status, 200);
    } finally {
      flooding = false;
      attacker.destroy();
      await wellBehaved.catch(() => undefined);
      await listener.close(0);
    }
  });

  it('refuses a header block far over max_request_header_bytes before it reaches JS', async (t) => {
    let handled = 0;
    const guards = recordingGuards({ maxRequestHeaderBytes: 8192 });
    const { listener, port } = await openTestListener(async (exchange: Exchange) => {
      handled++;
      exchange.response.sendHead(200, [], true);
    }, guards);
    const client = h2connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
    try {
      client.on('error', () => {});
      await once(client, 'connect');
      const before = process.memoryUsage().rss;
      // One 1 MB header, sent as one HEADERS+CONTINUATION block.
      const req = client.request({ ':path': '/', ':authority': `localhost:${port}`, 'x-huge': 'a'.repeat(1_048_576) });
      req.on('error', () => {});
      req.resume();
      const [status] = await within(5000, 'huge header answered', outcome(req));
      const grew = (process.memoryUsage().rss - before) / 2 ** 20;
      t.diagnostic(`1 MB HTTP/2 header: ${status}, RSS +${grew.toFixed(1)} MB (client and server in this process)`);
      assert.notEqual(status, 200);
      assert.equal(handled, 0, 'the handler never saw it');
      assert.equal((await h2Request(port, 'GET', '/')).status, 200);
    } finally {
      client.destroy();
      await listener.close(0);
    }
  });
});

/** HEADERS then RST_STREAM(CANCEL), `count` times or until the session closes. */
async function flood(session: ClientHttp2Session, count: number): Promise<number> {
  let sent = 0;
  while (sent < count && !session.closed && !session.destroyed) {
    try {
      const req = session.request({ ':path': '/', ':authority': 'localhost' });
      req.on('error', () => {});
      req.close(constants.NGHTTP2_CANCEL);
      sent++;
    } catch {
      break; // the session went away under us
    }
    if (sent % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  return sent;
}

/** 'response' status, or 'reset <code>' when the stream closes without one. */
function outcome(req: ReturnType<ClientHttp2Session['request']>): Promise<[string | number]> {
  return new Promise((resolve) => {
    req.once('response', (headers) => resolve([Number(headers[':status'])]));
    req.once('close', () => resolve([`reset ${req.rstCode}`]));
  });
}
