import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HeaderList } from './exchange.ts';
import { connectionTokens, endToEndHeaders, isHopByHop } from './hop-by-hop.ts';

describe('hop-by-hop', () => {
  it('drops the fixed hop-by-hop fields and whatever connection lists, case and spaces aside', () => {
    const headers: HeaderList = [
      ['connection', 'Keep-Alive, X-Secret ,, close'],
      ['keep-alive', 'timeout=5'],
      ['x-secret', 's'],
      ['close', 'c'],
      ['proxy-authorization', 'p'],
      ['te', 'trailers'],
      ['content-type', 'text/plain'],
      ['x-kept', 'k'],
    ];
    assert.deepEqual(endToEndHeaders(headers), [
      ['content-type', 'text/plain'],
      ['x-kept', 'k'],
    ]);
  });

  it('lists only names that the fixed rules would not drop anyway (no Set for connection: keep-alive)', () => {
    assert.equal(connectionTokens([['connection', 'keep-alive']]).size, 0);
    assert.equal(connectionTokens([['connection', 'Upgrade, proxy-foo']]).size, 0);
    assert.equal(connectionTokens([]).size, 0);
    assert.deepEqual([...connectionTokens([['connection', 'X-A'], ['connection', 'keep-alive, x-b']])], ['x-a', 'x-b']);
    const listed = connectionTokens([['connection', 'keep-alive']]);
    assert.equal(isHopByHop('keep-alive', listed), true);
    assert.equal(isHopByHop('x-a', listed), false);
  });
});
