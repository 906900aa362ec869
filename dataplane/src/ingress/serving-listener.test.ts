import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Exchange } from '../http/exchange.ts';
import { h1Request, h2Request, h3Request } from '../testing/clients.ts';
import { openTestListener } from '../testing/test-listener.ts';
import type { ServingListener } from './serving-listener.ts';

/** Echoes what ingress made of the request, reading the body through the Exchange. */
async function echo(exchange: Exchange): Promise<void> {
  if (exchange.head.path === '/no-content') {
    exchange.response.sendComplete(204, [['x-test', 'empty']], null);
    return;
  }
  if (exchange.head.method === 'HEAD') {
    exchange.response.sendComplete(200, [['content-type', 'text/plain'], ['content-length', '12']], null);
    return;
  }
  if (exchange.head.path === '/trailers') {
    exchange.response.sendHead(200, [['content-type', 'application/grpc']], false);
    exchange.response.write(Buffer.from('part1-'));
    exchange.response.write(Buffer.from('part2'));
    exchange.response.end([['grpc-status', '0'], ['grpc-message', 'fine']]);
    return;
  }
  const chunks: Buffer[] = [];
  if (exchange.body) for await (const c of exchange.body) chunks.push(c as Buffer);
  const text = JSON.stringify({
    protocol: exchange.protocol,
    method: exchange.head.method,
    path: exchange.head.path,
    authority: exchange.head.authority,
    host: exchange.head.headers.find(([n]) => n === 'host')?.[1] ?? null,
    remoteAddress: exchange.remoteAddress,
    remotePort: exchange.remotePort,
    body: Buffer.concat(chunks).toString('utf8'),
    hadBody: exchange.body !== null,
  });
  exchange.response.sendHead(200, [['content-type', 'application/json'], ['x-test', 'a'], ['x-test', 'b']], false);
  exchange.response.write(Buffer.from(text));
  exchange.response.end();
}

describe('serving listener', () => {
  let listener: ServingListener;
  let port: number;

  before(async () => {
    ({ listener, port } = await openTestListener(echo));
  });
  after(() => listener.close(0));

  it('adapts an HTTP/3 POST, with body, client address and alt-svc', async () => {
    const reply = await h3Request(port, 'POST', '/echo?x=1', 'hello h3');
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['alt-svc'], `h3=":${port}"; ma=86400`);
    const seen = JSON.parse(reply.body);
    assert.equal(seen.protocol, 'h3');
    assert.equal(seen.method, 'POST');
    assert.equal(seen.path, '/echo?x=1');
    assert.equal(seen.authority, `localhost:${port}`);
    assert.equal(seen.body, 'hello h3');
    assert.equal(seen.remoteAddress, '127.0.0.1');
    assert.equal(typeof seen.remotePort, 'number');
  });

  it('answers HEAD on all three protocols (HTTP/2 used to hang: the adapter sent nothing)', async () => {
    for (const send of [h3Request, h2Request, h1Request]) {
      const reply = await send(port, 'HEAD', '/head');
      assert.equal(reply.status, 200, send.name);
      assert.equal(reply.headers['content-length'], '12', send.name);
      assert.equal(reply.body, '', send.name);
    }
  });

  it('answers 204 on all three protocols', async () => {
    for (const send of [h3Request, h2Request, h1Request]) {
      const reply = await send(port, 'GET', '/no-content');
      assert.equal(reply.status, 204, send.name);
      assert.equal(reply.headers['x-test'], 'empty', send.name);
      assert.equal(reply.body, '', send.name);
    }
  });

  it('gives a null body to a GET that ended with its headers', async () => {
    const seen = JSON.parse((await h3Request(port, 'GET', '/')).body);
    assert.equal(seen.hadBody, false);
  });

  it('answers malformed pseudo-headers with 400 itself', async () => {
    const reply = await h3Request(port, 'GET', 'no-slash');
    assert.equal(reply.status, 400);
    assert.equal(reply.headers['spooky-reason'], 'path_invalid');
  });

  it('relays trailers after the whole body, over HTTP/3 and HTTP/2', async () => {
    const h3 = await h3Request(port, 'GET', '/trailers');
    assert.equal(h3.body, 'part1-part2');
    assert.deepEqual(h3.trailers, { 'grpc-status': '0', 'grpc-message': 'fine' });
    const h2 = await h2Request(port, 'GET', '/trailers');
    assert.equal(h2.body, 'part1-part2');
    assert.equal(h2.trailers?.['grpc-status'], '0');
  });

  it('adapts HTTP/2 over TLS on the same port', async () => {
    const reply = await h2Request(port, 'POST', '/h2', 'hello h2');
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['alt-svc'], `h3=":${port}"; ma=86400`);
    const seen = JSON.parse(reply.body);
    assert.equal(seen.protocol, 'h2');
    assert.equal(seen.body, 'hello h2');
    assert.equal(seen.remoteAddress, '127.0.0.1');
  });

  it('adapts HTTP/1.1 over TLS on the same port', async () => {
    const reply = await h1Request(port, 'POST', '/h1', 'hello h1');
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['alt-svc'], `h3=":${port}"; ma=86400`);
    const seen = JSON.parse(reply.body);
    assert.equal(seen.protocol, 'http/1.1');
    assert.equal(seen.authority, null);
    assert.equal(seen.host, `localhost:${port}`);
    assert.equal(seen.body, 'hello h1');
    assert.equal(seen.remoteAddress, '127.0.0.1');
  });
});
