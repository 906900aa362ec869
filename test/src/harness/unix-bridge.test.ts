/**
 * The namespace glue on real sockets: a unix→TCP bridge with rotating sources gives each new
 * connection the next client address (what the far side sees), a TCP→unix bridge carries bytes
 * both ways, and a bridge whose far side refuses closes the accepted connection at once.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { freePort } from './free-port.ts';
import { ROTATING_SOURCES, tcpToUnix, unixToTcp } from './unix-bridge.ts';

/** Connects (unix path or TCP port), sends `hello`, resolves with what came back before the close. */
function exchange(target: string | number): Promise<string> {
  return new Promise((resolve) => {
    const s = typeof target === 'string' ? connect(target) : connect(target, '127.0.0.1');
    let got = '';
    s.on('data', (d) => {
      got += d.toString();
      s.end();
    });
    s.on('error', () => {});
    s.on('close', () => resolve(got));
    s.write('hello');
  });
}

describe('unix bridges', () => {
  test('unix → TCP with rotating sources: each connection is the next client address', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spk-bridge-'));
    const echo = createServer((s) => s.on('data', () => s.end(`${s.remoteAddress}`)));
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    const bridge = await unixToTcp(join(dir, 'in.sock'), '127.0.0.1', (echo.address() as AddressInfo).port, ROTATING_SOURCES);
    try {
      const seen = [await exchange(join(dir, 'in.sock')), await exchange(join(dir, 'in.sock')), await exchange(join(dir, 'in.sock'))];
      assert.deepEqual(seen, ['127.0.0.2', '127.0.0.3', '127.0.0.4']);
    } finally {
      await bridge.close();
      await new Promise((resolve) => echo.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('TCP → unix carries bytes both ways; a refused far side closes the accepted connection', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spk-bridge-'));
    const sock = join(dir, 'up.sock');
    const upper = createServer((s) => s.on('data', (d) => s.end(d.toString().toUpperCase())));
    await new Promise<void>((resolve) => upper.listen(sock, resolve));
    const port = await freePort();
    const bridge = await tcpToUnix('127.0.0.1', port, sock);
    const deadPort = await freePort();
    const dead = await tcpToUnix('127.0.0.1', deadPort, join(dir, 'nobody.sock'));
    try {
      assert.equal(await exchange(port), 'HELLO');
      assert.equal(await exchange(deadPort), '', 'closed without an answer');
    } finally {
      await bridge.close();
      await dead.close();
      await new Promise((resolve) => upper.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
