/**
 * streamResponse stage: commits the winning upstream response to the client and relays the
 * body with backpressure. Head: the upstream's status and end-to-end headers plus our
 * x-request-id; HEAD requests and 204/304 responses are sent complete at once (no body).
 *
 * Small bodies (content-length ≤ SMALL_BODY_BYTES) are collected and sent with the head in one
 * `sendComplete` (one library call on HTTP/3 instead of respond + write + FIN: measured the
 * largest single saving per small request). The head waits for that body; the body idle
 * bounds still apply. Trailers, or more bytes than declared, fall back to streaming. An
 * upstream failure before the head was committed throws: the runner answers with a local
 * 502/504 instead of resetting the stream.
 *
 * Larger or unknown-length bodies: each chunk is written to the sink; when write() returns
 * false the upstream is paused until the sink drains. Trailers are relayed with end(trailers).
 * If the upstream fails after the head was sent, the client stream is reset (abort 'internal')
 * and the outcome records it.
 */
import { toSpookyError } from '../errors.ts';
import type { BodyConsumer, UpstreamResponse } from '../http/backend-transport.ts';
import type { HeaderList, ResponseSink } from '../http/exchange.ts';
import type { RequestContext } from '../pipeline/context.ts';
import { CONTINUE, type Stage, type StageResult } from '../pipeline/stage.ts';

/** Bodies up to this size (declared by content-length) go out with their head in one call. */
export const SMALL_BODY_BYTES = 64 * 1024;

export const streamResponse: Stage = {
  name: 'streamResponse',
  run(ctx: RequestContext): StageResult | Promise<StageResult> {
    const response = ctx.response;
    if (response === null) return CONTINUE;
    const sink = ctx.exchange.response;
    const headers = responseHeaders(response.headers, ctx.requestId);
    const declared = declaredLength(response.headers);
    const bodyless = ctx.exchange.head.method === 'HEAD' || response.status === 204 || response.status === 304;
    ctx.status = response.status;
    if (sink.closed) {
      response.abort();
      ctx.outcome = 'client:aborted';
      return CONTINUE;
    }
    if (bodyless) {
      sink.sendComplete(response.status, headers, null);
      return new Promise((resolve) => response.stream(relay(ctx, response, sink, true, () => resolve(CONTINUE))));
    }
    if (declared >= 0 && declared <= SMALL_BODY_BYTES) {
      return new Promise((resolve, reject) => response.stream(new Collector(ctx, response, sink, headers, declared, resolve, reject)));
    }
    sink.sendHead(response.status, headers, false);
    return new Promise((resolve) => response.stream(relay(ctx, response, sink, false, () => resolve(CONTINUE))));
  },
};

/** Upstream response headers + our request id (the upstream's own x-request-id is replaced). */
function responseHeaders(upstream: HeaderList, requestId: string): HeaderList {
  const out: HeaderList = [];
  for (const entry of upstream) {
    if (entry[0] !== 'x-request-id') out.push(entry);
  }
  out.push(['x-request-id', requestId]);
  return out;
}

/** The last content-length's value when it is a valid length, else -1 (none or invalid). */
function declaredLength(upstream: HeaderList): number {
  let length = -1;
  for (const entry of upstream) {
    if (entry[0] !== 'content-length') continue;
    const n = Number(entry[1]);
    length = Number.isSafeInteger(n) && n >= 0 && entry[1] !== '' ? n : -1;
  }
  return length;
}

/**
 * Collects a small declared-length body, then sends head + body in one call. Falls back to
 * streaming (head, the collected chunks, then the relay) on trailers or an overrun.
 */
class Collector implements BodyConsumer {
  readonly #ctx: RequestContext;
  readonly #response: UpstreamResponse;
  readonly #sink: ResponseSink;
  readonly #headers: HeaderList;
  readonly #limit: number;
  readonly #resolve: (r: StageResult) => void;
  readonly #reject: (err: unknown) => void;
  #first: Uint8Array | null = null;
  #more: Uint8Array[] | null = null;
  #size = 0;
  /** Set once the head went out the streaming way: the relay takes over. */
  #relay: BodyConsumer | null = null;

  constructor(
    ctx: RequestContext,
    response: UpstreamResponse,
    sink: ResponseSink,
    headers: HeaderList,
    limit: number,
    resolve: (r: StageResult) => void,
    reject: (err: unknown) => void,
  ) {
    this.#ctx = ctx;
    this.#response = response;
    this.#sink = sink;
    this.#headers = headers;
    this.#limit = limit;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  data(chunk: Uint8Array): boolean {
    if (this.#relay !== null) return this.#relay.data(chunk);
    if (this.#sink.closed) {
      queueMicrotask(() => this.#response.abort()); // client gone: cancel the upstream
      return false;
    }
    this.#size += chunk.byteLength;
    this.#ctx.bytesOut += chunk.byteLength;
    if (this.#first === null) this.#first = chunk;
    else if (this.#more === null) this.#more = [chunk];
    else this.#more.push(chunk);
    if (this.#size <= this.#limit) return true;
    return this.#streamFromHere();
  }

  end(trailers: HeaderList): void {
    if (this.#relay !== null) {
      this.#relay.end(trailers);
      return;
    }
    const sink = this.#sink;
    if (sink.closed) {
      this.#ctx.outcome = 'client:aborted';
      this.#resolve(CONTINUE);
      return;
    }
    if (trailers.length > 0) {
      this.#streamFromHere();
      (this.#relay as BodyConsumer | null)?.end(trailers);
      return;
    }
    sink.sendComplete(this.#ctx.status, this.#headers, this.#body());
    this.#resolve(CONTINUE);
  }

  error(err: Error): void {
    if (this.#relay !== null) {
      this.#relay.error(err);
      return;
    }
    // Nothing was committed to the client: the runner answers (502 / 504 / client_aborted).
    this.#reject(toSpookyError(err));
  }

  #body(): Uint8Array | null {
    const first = this.#first;
    if (first === null) return null;
    if (this.#more === null) return first;
    return Buffer.concat([first, ...this.#more], this.#size);
  }

  /**
   * Sends the head and what was collected, and hands the rest of the body to the relay.
   * Returns what `data` returns: false when the client is full (the upstream resumes on drain).
   */
  #streamFromHere(): boolean {
    const ctx = this.#ctx;
    const sink = this.#sink;
    const response = this.#response;
    sink.sendHead(ctx.status, this.#headers, false);
    const collected = this.#body();
    this.#first = null;
    this.#more = null;
    this.#relay = relay(ctx, response, sink, false, () => this.#resolve(CONTINUE));
    if (collected === null || sink.closed || sink.write(collected)) return true;
    resumeOnDrain(sink, response);
    return false;
  }
}

/** The client's buffer is full: resume the paused upstream once it drains (or cancel it if the client left). */
function resumeOnDrain(sink: ResponseSink, response: UpstreamResponse): void {
  sink.drain().then(
    () => {
      if (sink.closed) response.abort();
      else response.resume();
    },
    () => undefined,
  );
}

function relay(ctx: RequestContext, response: UpstreamResponse, sink: ResponseSink, bodyless: boolean, done: () => void): BodyConsumer {
  return {
    data(chunk) {
      if (bodyless) return true; // a body on HEAD/204/304 is dropped
      if (sink.closed) {
        queueMicrotask(() => response.abort()); // client gone: cancel the upstream
        return false;
      }
      if (chunk.byteLength === 0) return true;
      ctx.bytesOut += chunk.byteLength;
      if (sink.write(chunk)) return true;
      resumeOnDrain(sink, response);
      return false;
    },
    end(trailers) {
      if (!bodyless && !sink.closed) sink.end(trailers.length > 0 ? trailers : undefined);
      done();
    },
    error(err) {
      const error = toSpookyError(err);
      if (ctx.exchange.signal.aborted || (error.code === 'client_aborted' && !ctx.signal.aborted)) {
        ctx.outcome = 'client:aborted';
        if (!sink.closed) sink.abort('cancel');
      } else if (error.code === 'request_timeout' || error.code === 'body_too_large' || error.code === 'client_body_timeout') {
        ctx.outcome = error.outcome;
        if (!sink.closed) sink.abort('internal');
      } else {
        ctx.outcome = error.code === 'upstream_timeout' ? 'upstream:body_timeout' : 'upstream:reset_after_head';
        if (!sink.closed) sink.abort('internal');
      }
      done();
    },
  };
}
