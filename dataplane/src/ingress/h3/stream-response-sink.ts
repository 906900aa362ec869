/**
 * ResponseSink over a library stream (QUIC stream or the library's HTTP/2 adapter; both are
 * `ServerHttp3Stream`). Known 0.9.0 defect: `respondWithBody()` sends nothing on the HTTP/2
 * side, so a response is always `respond()` then `write()`/`end()`.
 *
 * Trailers: on HTTP/2 they go through library-internals.ts (the adapter drops them). The HTTP/3 side sends trailers (with FIN) immediately while body writes may still
 * sit in the Writable queue, so `end(trailers)` waits until every accepted write has been
 * handed to the library before sending them.
 */
import type { ServerHttp3Stream } from '@currentspace/http3';
import type { HeaderList, ResponseSink } from '../../http/exchange.ts';
import { waitForDrain } from '../../http/wait-for-drain.ts';
import { toResponseHeaderMap } from '../response-headers.ts';
import { respondHttp2HeadRequest, sendHttp2TrailersOnEnd } from './library-internals.ts';

/** HTTP/3 (RFC 9114 §8.1) and HTTP/2 (RFC 9113 §7) reset codes for `abort()`. */
const H3_CODES = { cancel: 0x10c, internal: 0x102 } as const;
const H2_CODES = { cancel: 0x8, internal: 0x2 } as const;
const EMPTY = Buffer.alloc(0);

export class StreamResponseSink implements ResponseSink {
  readonly #stream: ServerHttp3Stream;
  readonly #altSvc: string;
  readonly #codes: { readonly cancel: number; readonly internal: number };
  readonly #http2: boolean;
  #headersSent = false;
  #ended = false;
  #gone = false;
  #aborted = false;
  #onDone: (() => void) | null = null;
  #pendingWrites = 0;
  #onWritesFlushed: (() => void) | null = null;

  constructor(stream: ServerHttp3Stream, altSvc: string, http2: boolean) {
    this.#stream = stream;
    this.#altSvc = altSvc;
    this.#codes = http2 ? H2_CODES : H3_CODES;
    this.#http2 = http2;
  }

  get headersSent(): boolean {
    return this.#headersSent;
  }

  get closed(): boolean {
    return this.#ended || this.#gone;
  }

  /** True once end() or abort() was called (the client going away does not count). */
  get finishedByServer(): boolean {
    return this.#ended;
  }

  get done(): boolean {
    return this.#gone;
  }

  whenDone(fn: () => void): void {
    if (this.#gone) fn();
    else this.#onDone = fn;
  }

  /** Called by the exchange when the stream closed or errored under us. */
  markGone(): void {
    this.#gone = true;
    const fn = this.#onDone;
    if (fn !== null) {
      this.#onDone = null;
      fn();
    }
  }

  sendHead(status: number, headers: HeaderList, endStream: boolean): void {
    if (endStream) {
      this.sendComplete(status, headers, null);
      return;
    }
    if (this.#headersSent || this.closed) return;
    this.#headersSent = true;
    this.#stream.respond(toResponseHeaderMap(status, headers, this.#altSvc));
  }

  /**
   * HTTP/3: `respondWithBody` puts head, body and FIN in one native call (respond + write +
   * end cost three, each waking the library's worker). HTTP/2 (the adapter ignores
   * respondWithBody): respond() then end(body). endStream is never passed to respond(): the
   * HTTP/3 side would send a second FIN when the Writable ends.
   */
  sendComplete(status: number, headers: HeaderList, body: Uint8Array | null): void {
    if (this.#headersSent || this.closed) return;
    this.#headersSent = true;
    this.#ended = true;
    const map = toResponseHeaderMap(status, headers, this.#altSvc);
    const stream = this.#stream;
    if (this.#http2) {
      // A HEAD request's adapter sends nothing (library-internals.ts, item 5).
      if ((body === null || body.byteLength === 0) && respondHttp2HeadRequest(stream, map)) return;
      stream.respond(map);
      if (body === null || body.byteLength === 0) stream.end();
      else stream.end(body);
      return;
    }
    stream.respondWithBody(map, body === null ? EMPTY : Buffer.from(body.buffer, body.byteOffset, body.byteLength));
  }

  write(chunk: Uint8Array): boolean {
    if (this.closed) return true;
    this.#pendingWrites++;
    return this.#stream.write(chunk, () => this.#writeDone());
  }

  drain(): Promise<void> {
    return this.closed ? Promise.resolve() : waitForDrain(this.#stream);
  }

  end(trailers?: HeaderList): void {
    if (this.closed) return;
    this.#ended = true;
    const stream = this.#stream;
    if (!this.#headersSent) {
      this.#headersSent = true;
      stream.respond(toResponseHeaderMap(200, [], this.#altSvc));
    }
    if (!trailers || trailers.length === 0) {
      stream.end();
      return;
    }
    const send = (): void => {
      if (stream.destroyed) return;
      const map = toResponseHeaderMap(null, trailers, null);
      if (!this.#http2 || !sendHttp2TrailersOnEnd(stream, map)) stream.sendTrailers(map);
      stream.end();
    };
    if (this.#pendingWrites === 0) send();
    else this.#onWritesFlushed = send;
  }

  abort(reason: 'cancel' | 'internal'): void {
    if (this.#gone || this.#aborted) return;
    this.#ended = true;
    this.#aborted = true;
    this.#stream.close(this.#codes[reason]);
  }

  #writeDone(): void {
    this.#pendingWrites--;
    if (this.#pendingWrites === 0 && this.#onWritesFlushed) {
      const send = this.#onWritesFlushed;
      this.#onWritesFlushed = null;
      send();
    }
  }
}
