import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  isWebSocketUpgrade,
  listsToken,
  MAX_RESPONSE_HEAD_BYTES,
  parseResponseHead,
  serializeRequestHead,
  websocketClientHeaders,
  websocketUpstreamHeaders,
} from './tunnel-wire.ts';

describe('tunnel-wire', () => {
  test('a WebSocket upgrade is GET + connection: upgrade + upgrade: websocket (tokens, any case, any position)', () => {
    assert.equal(isWebSocketUpgrade('GET', [['connection', 'keep-alive, Upgrade'], ['upgrade', 'WebSocket']]), true);
    assert.equal(isWebSocketUpgrade('GET', [['connection', 'keep-alive'], ['connection', 'upgrade'], ['upgrade', 'foo, websocket']]), true);
    assert.equal(isWebSocketUpgrade('POST', [['connection', 'upgrade'], ['upgrade', 'websocket']]), false);
    assert.equal(isWebSocketUpgrade('GET', [['upgrade', 'websocket']]), false, 'no connection: upgrade');
    assert.equal(isWebSocketUpgrade('GET', [['connection', 'upgrade'], ['upgrade', 'h2c']]), false);
    assert.equal(listsToken([['connection', 'upgradex']], 'connection', 'upgrade'), false, 'whole tokens only');
  });

  test('the backend handshake keeps end-to-end headers and puts the upgrade back; the 101 likewise', () => {
    const up = websocketUpstreamHeaders([
      ['host', 'a'],
      ['sec-websocket-key', 'k'],
    ]);
    assert.deepEqual(up, [
      ['host', 'a'],
      ['sec-websocket-key', 'k'],
      ['connection', 'upgrade'],
      ['upgrade', 'websocket'],
    ]);
    const down = websocketClientHeaders([
      ['upgrade', 'websocket'],
      ['connection', 'Upgrade, x-secret'],
      ['x-secret', 'hop'],
      ['sec-websocket-accept', 'abc'],
      ['keep-alive', 'timeout=5'],
    ]);
    assert.deepEqual(down, [
      ['sec-websocket-accept', 'abc'],
      ['connection', 'upgrade'],
      ['upgrade', 'websocket'],
    ]);
    assert.equal(serializeRequestHead('GET', '/ws?a=1', [['host', 'a']]).toString('latin1'), 'GET /ws?a=1 HTTP/1.1\r\nhost: a\r\n\r\n');
  });

  test('response heads: complete, incomplete, with the bytes after them', () => {
    const bytes = Buffer.from('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: x=\r\n\r\n\x81\x02hi', 'latin1');
    const parsed = parseResponseHead(bytes);
    assert.equal(parsed.kind, 'head');
    if (parsed.kind !== 'head') return;
    assert.equal(parsed.status, 101);
    assert.equal(parsed.reason, 'Switching Protocols');
    assert.deepEqual(parsed.headers, [
      ['upgrade', 'websocket'],
      ['sec-websocket-accept', 'x='],
    ]);
    assert.deepEqual([...parsed.rest], [0x81, 0x02, 0x68, 0x69]);
    assert.equal(parseResponseHead(Buffer.from('HTTP/1.1 101 Switching')).kind, 'incomplete');
    assert.equal(parseResponseHead(Buffer.from('HTTP/1.1 403\r\n\r\n')).kind, 'head', 'no reason phrase');
  });

  test('malformed or oversized response heads are invalid', () => {
    for (const text of [
      'HTTP/2 101 x\r\n\r\n',
      'HTTP/1.1 1010 x\r\n\r\n',
      'HTTP/1.1 101 x\r\nno-colon\r\n\r\n',
      'HTTP/1.1 101 x\r\n folded: value\r\n\r\n',
      'HTTP/1.1 101 x\r\nbad name: v\r\n\r\n',
      'HTTP/1.1 101 x\r\nx: a\x01b\r\n\r\n',
      'HTTP/1.1 101 x\r\nx: a\nb\r\n\r\n',
    ]) {
      assert.equal(parseResponseHead(Buffer.from(text, 'latin1')).kind, 'invalid', JSON.stringify(text));
    }
    const huge = Buffer.concat([Buffer.from('HTTP/1.1 101 x\r\nx: '), Buffer.alloc(MAX_RESPONSE_HEAD_BYTES, 0x61)]);
    assert.equal(parseResponseHead(huge).kind, 'invalid', 'no end of head within the bound');
    assert.equal(parseResponseHead(Buffer.concat([huge, Buffer.from('\r\n\r\n')])).kind, 'invalid', 'a head over the bound');
  });
});
