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
 */
import { Readable } from 'node:stream';

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
  const onData = (chunk: Buffer): void => {
    if (!relay.push(chunk)) source.pause();
  };
  const onEnd = (): void => {
    cleanup();
    relay.push(null);
  };
  const onError = (err: Error): void => {
    cleanup();
    relay.destroy(err);
  };
  const onAborted = (): void => onError(new Error('client aborted the request body'));
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
