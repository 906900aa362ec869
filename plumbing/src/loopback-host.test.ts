import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLoopbackHost } from './loopback-host.ts';

describe('isLoopbackHost', () => {
  it('loopback: 127.0.0.0/8, ::1 in any spelling, IPv4-mapped 127.x, localhost in any case with a trailing dot', () => {
    for (const host of ['127.0.0.1', '127.9.8.7', '127.3.2.1', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', 'localhost', 'LOCALHOST', 'localhost.', 'LOCALHOST.']) {
      assert.equal(isLoopbackHost(host), true, host);
    }
  });

  it('not loopback: the wildcards, other addresses, other names (never resolved)', () => {
    for (const host of ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', '::2', '::ffff:10.0.0.1', 'example.com', 'cp.example.com', 'localhost.example.com', 'my-localhost', '']) {
      assert.equal(isLoopbackHost(host), false, host);
    }
  });
});
