import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { INTERNAL_ERROR_CHANNEL } from '../barrier/internal-error.ts';
import { abortSignalOf, Cancellation } from './cancellation.ts';

describe('Cancellation', () => {
  it('runs each listener once, in order, inside abort(); keeps the first reason', () => {
    const c = new Cancellation();
    const seen: string[] = [];
    c.addEventListener('abort', () => seen.push(`a:${String(c.reason)}`));
    c.addEventListener('abort', () => seen.push('b'), { once: true });
    c.addEventListener('abort', () => seen.push('c'));
    assert.equal(c.aborted, false);
    c.abort('first');
    c.abort('second');
    assert.deepEqual(seen, ['a:first', 'b', 'c']);
    assert.equal(c.aborted, true);
    assert.equal(c.reason, 'first');
    assert.equal(c.signal, c, 'its own signal');
  });

  it('a removed listener does not run (first slot and later ones); one added after the abort never runs', () => {
    const c = new Cancellation();
    const seen: string[] = [];
    const a = () => seen.push('a');
    const b = () => seen.push('b');
    const d = () => seen.push('d');
    c.addEventListener('abort', a);
    c.addEventListener('abort', b);
    c.removeEventListener('abort', a);
    c.addEventListener('abort', d);
    c.removeEventListener('abort', b);
    c.removeEventListener('abort', () => {});
    c.abort();
    c.addEventListener('abort', () => seen.push('late'));
    assert.deepEqual(seen, ['d']);
    assert.ok(c.reason instanceof DOMException && c.reason.name === 'AbortError', 'default reason is an AbortError');
  });

  it('a throwing listener is reported and the others still run', () => {
    const c = new Cancellation();
    const reported: unknown[] = [];
    const onReport = (m: unknown) => reported.push(m);
    subscribe(INTERNAL_ERROR_CHANNEL, onReport);
    try {
      let ran = false;
      c.addEventListener('abort', () => {
        throw new Error('listener bug');
      });
      c.addEventListener('abort', () => {
        ran = true;
      });
      c.abort('x');
      assert.equal(ran, true);
      assert.equal(reported.length, 1);
    } finally {
      unsubscribe(INTERNAL_ERROR_CHANNEL, onReport);
    }
  });

  it('abortSignalOf: a real AbortSignal that follows it (before or after the abort); an AbortSignal passes through', async () => {
    const c = new Cancellation();
    const signal = abortSignalOf(c);
    assert.equal(abortSignalOf(c), signal, 'made once');
    const slept = sleep(60_000, undefined, { signal }).then(
      () => 'slept',
      (err: Error) => err.name,
    );
    c.abort(new Error('stop'));
    assert.equal(await slept, 'AbortError');
    assert.equal(signal.aborted, true);
    const late = new Cancellation();
    late.abort('gone');
    assert.equal(abortSignalOf(late).reason, 'gone');
    const native = new AbortController().signal;
    assert.equal(abortSignalOf(native), native);
  });
});
