import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { type Listener, parseConfig } from '@spooky/config';
import pino from 'pino';
import type { Exchange } from '../http/exchange.ts';
import { h1Request, h3Request } from '../testing/clients.ts';
import { closedWith, rawTcp, until, within } from '../testing/connection-probes.ts';
import { freeUdpTcpPort, tcpPortFree } from '../testing/free-port.ts';
import { makeSelfSignedCert } from '../testing/self-signed-cert.ts';
import { ListenerManager, type PreparedListeners } from './listener-manager.ts';

async function hello(exchange: Exchange): Promise<void> {
  exchange.response.sendHead(200, [['content-type', 'text/plain']], false);
  exchange.response.write(Buffer.from('hello'));
  exchange.response.end();
}

function listener(port: number, cert: { certPath: string; keyPath: string }): Listener {
  return { protocol: 'http3', address: '127.0.0.1', port, tls: { cert: cert.certPath, key: cert.keyPath } };
}

async function prepared(manager: ListenerManager, listeners: Listener[]): Promise<PreparedListeners> {
  const outcome = await manager.prepare(listeners);
  assert.ok(outcome.ok, JSON.stringify(outcome));
  return outcome.prepared;
}

describe('listener manager', () => {
  const cert = makeSelfSignedCert();
  let manager: ListenerManager;
  const blockers: Server[] = [];

  afterEach(async () => {
    await manager?.closeAll(0);
    for (const b of blockers.splice(0)) await new Promise<void>((resolve) => b.close(() => resolve()));
  });

  function newManager(): ListenerManager {
    manager = new ListenerManager({ handler: hello, logger: pino({ level: 'silent' }), drainMs: 1000 });
    return manager;
  }

  it('opens new listeners and keeps the sockets of unchanged ones', async () => {
    const m = newManager();
    const port = await freeUdpTcpPort();
    const first = await prepared(m, [listener(port, cert)]);
    m.commit(first);
    assert.deepEqual(m.serving(), [{ address: '127.0.0.1', port }]);
    assert.equal((await h3Request(port, 'GET', '/')).body, 'hello');

    const second = await prepared(m, [listener(port, cert)]);
    assert.equal(second.opened.length, 0);
    assert.equal(second.next[0], first.next[0], 'same ServingListener object: sockets kept');
    m.commit(second);
    assert.equal((await h3Request(port, 'GET', '/')).body, 'hello');
  });

  it('swaps a listener whose certificate changed on the same port: same listener object, nothing replaced', async () => {
    const m = newManager();
    const port = await freeUdpTcpPort();
    const first = await prepared(m, [listener(port, cert)]);
    m.commit(first);
    const second = await prepared(m, [listener(port, makeSelfSignedCert(undefined, 'other'))]);
    assert.equal(second.swaps.length, 1);
    assert.deepEqual([second.opened.length, second.replaced.length, second.closeAfterSwap.length], [0, 0, 0]);
    assert.equal(second.next[0], first.next[0], 'the same ServingListener (its TCP socket) serves on');
    m.commit(second);
    assert.equal((await within(10_000, 'HTTP/1.1 after the swap', h1Request(port, 'GET', '/'))).body, 'hello');
    // certificate-swap.test.ts: sockets, probes during the swap, certificates served.
  });

  it('closes listeners a generation no longer names', async () => {
    const m = newManager();
    const [a, b] = [await freeUdpTcpPort(), await freeUdpTcpPort()];
    m.commit(await prepared(m, [listener(a, cert), listener(b, cert)]));
    m.commit(await prepared(m, [listener(a, cert)]));
    await m.closeAll(0).then(() => undefined); // waits for background closes too
    assert.equal(await tcpPortFree(b), true);
  });

  it('fails all-or-nothing on a missing certificate file', async () => {
    const m = newManager();
    const [a, b] = [await freeUdpTcpPort(), await freeUdpTcpPort()];
    m.commit(await prepared(m, [listener(a, cert)]));
    const outcome = await m.prepare([listener(b, cert), { ...listener(a, cert), tls: { cert: '/nonexistent/cert.pem', key: cert.keyPath } }]);
    assert.equal(outcome.ok, false);
    if (outcome.ok) return;
    assert.deepEqual(
      outcome.issues.map((i) => [i.pointer, i.code]),
      [['/listeners/1/tls/cert', 'listener.tls.unreadable']],
    );
    assert.match(outcome.issues[0]?.message ?? '', /ENOENT/);
    assert.equal(await tcpPortFree(b), true, 'the new listener was not left open');
    assert.deepEqual(m.serving(), [{ address: '127.0.0.1', port: a }]);
    assert.equal((await h3Request(a, 'GET', '/')).body, 'hello', 'old listener still serves');
  });

  it('fails all-or-nothing when a port is busy, closing what it opened', async () => {
    const m = newManager();
    const [a, b, busy] = [await freeUdpTcpPort(), await freeUdpTcpPort(), await freeUdpTcpPort()];
    m.commit(await prepared(m, [listener(a, cert)]));
    const blocker = createServer();
    blockers.push(blocker);
    await new Promise<void>((resolve) => blocker.listen(busy, '127.0.0.1', () => resolve()));

    const outcome = await m.prepare([listener(a, cert), listener(b, cert), listener(busy, cert)]);
    assert.equal(outcome.ok, false);
    if (outcome.ok) return;
    assert.equal(outcome.retryable, true);
    assert.deepEqual(
      outcome.issues.map((i) => [i.pointer, i.code]),
      [['/listeners/2/port', 'listener.bind_failed']],
    );
    assert.equal(await tcpPortFree(b), true, 'listener b opened during prepare was closed again');
    assert.deepEqual(m.serving(), [{ address: '127.0.0.1', port: a }]);
    assert.equal((await h3Request(a, 'GET', '/')).body, 'hello');
  });

  it('never puts key contents in issue messages', async () => {
    const m = newManager();
    const port = await freeUdpTcpPort();
    // The key file given as certificate and vice versa: TLS rejects it.
    const outcome = await m.prepare([{ ...listener(port, cert), tls: { cert: cert.keyPath, key: cert.keyPath } }]);
    assert.equal(outcome.ok, false);
    if (outcome.ok) return;
    for (const issue of outcome.issues) assert.doesNotMatch(issue.message, /BEGIN|PRIVATE/);
  });

  it("applies a new generation's connection limits to new connections at commit", async () => {
    const m = newManager();
    const port = await freeUdpTcpPort();
    m.commit(await prepared(m, [listener(port, cert)]));
    const held = [await rawTcp(port), await rawTcp(port)];
    const parsed = parseConfig({
      listen: { address: '127.0.0.1', port, tls: { cert: cert.certPath, key: cert.keyPath } },
      upstream: { app: { route: { path_prefix: '/' }, backends: [{ id: 'a', address: 'http://127.0.0.1:1' }] } },
      performance: { max_connections_per_ip: 2 },
    });
    assert.ok(parsed.ok);
    const outcome = await m.prepare(parsed.config.listeners, parsed.config.performance);
    assert.ok(outcome.ok);
    const extra = await rawTcp(port);
    const extraClosed = closedWith(extra);
    m.commit(outcome.prepared);
    // The connection accepted before the commit keeps its place; the next one is refused.
    await until(2000, 'three admitted', () => m.activeConnections() === 3);
    const refused = await rawTcp(port);
    await within(3000, 'refused at once', closedWith(refused));
    for (const s of [...held, extra]) s.destroy();
    await within(3000, 'closed', extraClosed);
  });
});
