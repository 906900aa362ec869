/**
 * @currentspace/http3 0.9.0 builds two `Error` objects every time a stream is torn down,
 * whether or not anything waits to be told: `_destroy(error, cb)` passes
 * `error ?? new Error('stream destroyed')` to its drain-callback and write-window rejecters,
 * once each. Each Error captures a stack (~2–9 µs here): measured 7 % of the JS thread's busy
 * time on small GETs (cpu profile, `_destroy` self time), more than routing and balancing
 * together.
 *
 * `shareStreamTeardownError` wraps the prototype's `_destroy` once: a destroy without an error
 * hands the library one shared Error instead (pending writes, if any, are still rejected with
 * it), and the stream's own callback still gets "no error" so no 'error' event is emitted.
 * A destroy with an error is passed through untouched. The wrap is applied only when the
 * method's source is the one measured (it names 'stream destroyed'), so a library update
 * that changes it leaves the library's behaviour alone; `true` = installed.
 *
 * This is a library internal on purpose and in one place: the public API has no hook for
 * stream teardown. See also library-internals.ts.
 */
import { ServerHttp3Stream } from '@currentspace/http3';

/** Shared by every teardown: its stack points here, not at the stream; the message says what happened. */
const STREAM_DESTROYED = new Error('stream destroyed');

type DestroyFn = (this: unknown, error: Error | null | undefined, callback: (error?: Error | null) => void) => void;

const WRAPPED = Symbol('spooky.sharedTeardownError');

export function shareStreamTeardownError(proto: object = ServerHttp3Stream.prototype): boolean {
  const target = proto as { _destroy?: DestroyFn; [WRAPPED]?: true };
  if (target[WRAPPED] === true) return true;
  const original = target._destroy;
  if (typeof original !== 'function' || !Function.prototype.toString.call(original).includes("'stream destroyed'")) return false;
  target._destroy = function destroyWithSharedError(this: unknown, error, callback): void {
    if (error != null) {
      original.call(this, error, callback);
      return;
    }
    original.call(this, STREAM_DESTROYED, (passed) => callback(passed === STREAM_DESTROYED ? error : passed));
  };
  target[WRAPPED] = true;
  return true;
}
