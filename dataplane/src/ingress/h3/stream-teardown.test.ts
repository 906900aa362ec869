import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ServerHttp3Stream } from '@currentspace/http3';
import { shareStreamTeardownError } from './stream-teardown.ts';

/** A stand-in with the library's 0.9.0 `_destroy` shape (the source text is what the guard reads). */
function fakeProto(seen: unknown[]) {
  return {
    _destroy(error: Error | null | undefined, callback: (e?: Error | null) => void): void {
      seen.push(error ?? new Error('stream destroyed'), error ?? new Error('stream destroyed'));
      callback(error);
    },
  };
}

test('the installed library has the measured _destroy: the shared teardown error is installed', () => {
  assert.equal(shareStreamTeardownError(ServerHttp3Stream.prototype), true);
  assert.equal(shareStreamTeardownError(ServerHttp3Stream.prototype), true, 'idempotent');
});

test('a destroy without an error reuses one Error for every teardown and still reports no error', () => {
  const seen: unknown[] = [];
  const proto = fakeProto(seen);
  assert.equal(shareStreamTeardownError(proto), true);
  const results: unknown[] = [];
  proto._destroy(null, (e) => results.push(e));
  proto._destroy(undefined, (e) => results.push(e));
  assert.deepEqual(results, [null, undefined], 'the callback gets what the caller passed: no error event');
  assert.equal(seen.length, 4);
  assert.ok(seen.every((e) => e === seen[0] && e instanceof Error && e.message === 'stream destroyed'));
});

test('a destroy with an error passes it through; an unknown _destroy is left alone', () => {
  const seen: unknown[] = [];
  const proto = fakeProto(seen);
  shareStreamTeardownError(proto);
  const failure = new Error('reset');
  let got: unknown = 'unset';
  proto._destroy(failure, (e) => {
    got = e;
  });
  assert.equal(got, failure);
  assert.deepEqual(seen, [failure, failure]);
  const other = { _destroy: (_e: unknown, cb: () => void) => cb() };
  const before = other._destroy;
  assert.equal(shareStreamTeardownError(other), false);
  assert.equal(other._destroy, before);
});
