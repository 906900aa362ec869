/**
 * The request body handed to the pipeline: a Readable of its own that relays the readable
 * side of the client stream with backpressure. Why not the client stream itself: HTTP/3 and
 * HTTP/2 streams are Duplexes and an HTTP/1.1 request shares its socket, so a consumer that
 * destroys the body when it is done (undici does) would also kill the response. Destroying
 * this Readable only stops relaying.
 *
 * Contract: `source` must already be paused (the library resumes a never-read HTTP/3 stream
 * when its FIN arrives, which would drop the body); nothing is read from it until the
 * returned Readable is.
 *
 * Failure: when the client goes away or its stream fails, the relay is destroyed with that
 * error. The relay always has an error listener of its own: the failure can happen before
 * any consumer listens (the forwarder attaches only once it starts reading, and a request
 * answered locally never reads), and an 'error' without a listener would kill the process.
 * A consumer still sees the error (`errored`, its own listener); the client's departure
 * itself reaches the pipeline through the exchange's abort signal.
 */
import { Readable } from 'node:stream';
import { SpookyError } from '../errors.ts';

export function relayBody(source: Readable): Readable {
  let done = false;
  const cleanup = (): void => {
    done = true;
    source.off('data', onData);
    source.off('end', onEnd);
    source.off('error', onError);
    source.off('aborted', onAborted);
    source.off('close', onClose);
  };
  const relay = new Readable({
    read() {
      if (!done) source.resume();
    },
    destroy(err, callback) {
      if (!done) {
        cleanup();
        // Keep the client stream out of flowing mode: unread bytes stay in flow control.
        source.pause();
      }
      callback(err);
    },
  });
  // Expected failures (client reset, abort) need no report; see the header.
  relay.on('error', ignoreBodyError);
  const onData = (chunk: Buffer): void => {
    if (!relay.push(chunk)) source.pause();
  };
  const onEnd = (): void => {
    cleanup();
    relay.push(null);
  };
  // Whatever broke the client's side, the relay's consumer (the forwarder) sees it as the
  // client going away, never as a fault of the backend it was sending to.
  const onError = (err: Error): void => {
    cleanup();
    relay.destroy(new SpookyError('client_aborted', 'client aborted the request body', { cause: err }));
  };
  const onAborted = (): void => onError(new Error('client stream aborted'));
  const onClose = (): void => {
    if (!source.readableEnded) onAborted();
  };
  source.on('data', onData);
  source.on('end', onEnd);
  source.on('error', onError);
  source.on('aborted', onAborted);
  source.on('close', onClose);
  // Attaching 'data' switched the source to flowing: hold it until the relay is read.
  source.pause();
  return relay;
}

function ignoreBodyError(): void {
  // Deliberately empty: the relay's error is kept in `relay.errored` for its consumer.
}
