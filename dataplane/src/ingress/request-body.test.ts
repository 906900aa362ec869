import assert from 'node:assert/strict';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { connect } from 'node:tls';
import { SpookyError } from '../errors.ts';
import { abortSignalOf } from '../http/cancellation.ts';
import type { Exchange } from '../http/exchange.ts';
import { h1Request } from '../testing/clients.ts';
import { openTestListener } from '../testing/test-listener.ts';
import { relayBody } from './request-body.ts';

/** Sends raw bytes on one TLS HTTP/1.1 connection; resolves with all it got until close. */
function rawExchange(port: number, bytes: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => socket.write(bytes));
    let got = '';
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.on('data', (d: Buffer) => {
      got += d.toString('latin1');
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(got);
    });
    socket.on('timeout', () => reject(new Error('timeout')));
  });
}

describe('request-body relay', () => {
  it('a client failure before anyone reads does not throw; the consumer later sees client_aborted', async () => {
    const source = new PassThrough();
    source.pause();
    const relay = relayBody(source);
    source.destroy(new Error('ECONNRESET'));
    await new Promise((resolve) => relay.on('close', resolve));
    assert.ok(relay.errored instanceof SpookyError);
    assert.equal((relay.errored as SpookyError).code, 'client_aborted');
    await assert.rejects(async () => {
      for await (const _ of relay) {
        // nothing arrives
      }
    }, { code: 'client_aborted' });
  });

  // Issue 7: `Transfer-Encoding: xchunked` and a bare-LF chunk line got a 400 from node's
  // parser and then killed the process (the relay errored with no listener).
  for (const [name, raw] of [
    ['obfuscated transfer-encoding', 'POST /x HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: xchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'],
    ['bare LF in a chunk line', 'POST /x HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n'],
    ['client gone right after the head', 'POST /x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\nabc'],
  ] as const) {
    it(`survives ${name} while the handler has not read the body yet`, async () => {
      let released: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => {
        released = resolve;
      });
      const handler = async (exchange: Exchange): Promise<void> => {
        if (exchange.head.path === '/x') {
          await Promise.race([gate, once(abortSignalOf(exchange.signal), 'abort')]);
          if (exchange.body) for await (const _ of exchange.body.on('error', () => undefined)) break;
          exchange.response.sendHead(200, [], true);
          return;
        }
        exchange.response.sendHead(200, [['content-type', 'text/plain']], false);
        exchange.response.end();
      };
      const { listener, port } = await openTestListener(handler);
      try {
        const answer = await rawExchange(port, raw, name.startsWith('client gone') ? 50 : 5000);
        if (!name.startsWith('client gone')) assert.match(answer, /^HTTP\/1\.1 400 /);
        released();
        const after = await h1Request(port, 'GET', '/ok');
        assert.equal(after.status, 200);
      } finally {
        released();
        await listener.close(0);
      }
    });
  }
});
