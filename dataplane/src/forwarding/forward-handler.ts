/**
 * undici DispatchHandler for one upstream try. Turns undici's callbacks into the
 * BackendTransport contract: resolve with an UpstreamResponse at the final response head
 * (body held paused until `stream()`), reject with a SpookyError before it; after the head,
 * body chunks go to the consumer with backpressure (consumer says false → controller.pause()
 * until `resume()`), trailers on end, failures to `consumer.error`.
 *
 * Exactly once: the consumer receives `end` or `error` exactly once, whatever the order of
 * upstream completion, client abort and backpressure (an abort after undici already read the
 * whole response still fails the held body, so the relay never waits forever). No callback
 * undici invokes throws: a throw inside our consumer is contained (crash barrier) and fails
 * this try only — undici would otherwise emit it as an 'error' on its Client.
 *
 * Body total bound (`upstream_body_total_timeout_ms`, null = none): from the final head until
 * undici is done with the body. Past it the try is aborted with `upstream_timeout` (the relay
 * then resets the client stream). It bounds the upstream, not the client: once undici is done
 * (the body may still sit in our queue for a slow reader) the bound is off and the
 * whole-request deadline alone applies. Cost when configured: one entry in the shared
 * deadline queue (no timer) and one closure per response; none otherwise.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { reportInternalError } from '../barrier/internal-error.ts';
import { abortError, SpookyError } from '../errors.ts';
import type { BodyConsumer, UpstreamRequest, UpstreamResponse } from '../http/backend-transport.ts';
import type { HeaderList } from '../http/exchange.ts';
import { connectionTokens, isHopByHop } from '../http/hop-by-hop.ts';
import { type Deadline, type DeadlineQueue, requestDeadlines } from '../pipeline/deadline-queue.ts';
import { classifyUpstreamError } from './classify-upstream-error.ts';

type Controller = Dispatcher.DispatchController;

export class ForwardHandler implements Dispatcher.DispatchHandler {
  readonly #request: UpstreamRequest;
  readonly #resolve: (r: UpstreamResponse) => void;
  readonly #reject: (e: Error) => void;
  #controller: Controller | null = null;
  #headSeen = false;
  #consumer: BodyConsumer | null = null;
  /** True while the consumer asked us to hold (or before stream()). */
  #held = true;
  #queue: Uint8Array[] = [];
  #endTrailers: HeaderList | null = null;
  #failure: Error | null = null;
  /** undici finished with this request (end or error). */
  #done = false;
  /** The consumer was given `end` or `error`. */
  #delivered = false;
  /** undici started writing the request to a connection (so a reset is not a connect failure). */
  #requestStarted = false;
  readonly #onAbort = () => this.#abort(abortError(this.#request.signal));
  readonly #bodyTotalMs: number | null;
  readonly #deadlines: DeadlineQueue;
  #bodyDeadline: Deadline | null = null;

  /** `bodyTotalMs`: upstream_body_total_timeout_ms (null = none); `deadlines`: the shared queue (a fake clock in tests). */
  constructor(
    request: UpstreamRequest,
    resolve: (r: UpstreamResponse) => void,
    reject: (e: Error) => void,
    bodyTotalMs: number | null = null,
    deadlines: DeadlineQueue = requestDeadlines,
  ) {
    this.#request = request;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#bodyTotalMs = bodyTotalMs;
    this.#deadlines = deadlines;
    if (request.signal.aborted) this.#failure = abortError(request.signal);
    else request.signal.addEventListener('abort', this.#onAbort, { once: true });
  }

  onRequestStart(controller: Controller): void {
    this.#controller = controller;
    this.#requestStarted = true;
    try {
      this.#request.onRequestStart?.();
    } catch (err) {
      reportInternalError('response_relay', err);
    }
    if (this.#failure !== null) controller.abort(this.#failure);
  }

  onResponseStart(controller: Controller, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200 || this.#headSeen) return; // 1xx informational: not relayed
    this.#headSeen = true;
    controller.pause();
    if (this.#bodyTotalMs !== null) {
      this.#bodyDeadline = this.#deadlines.add(this.#bodyTotalMs, () => {
        this.#bodyDeadline = null;
        this.#abort(new SpookyError('upstream_timeout', 'response body over upstream_body_total_timeout_ms'));
      });
    }
    const response: UpstreamResponse = {
      status: statusCode,
      headers: endToEndList(headers),
      stream: (consumer) => {
        this.#consumer = consumer;
        this.resume();
      },
      resume: () => this.resume(),
      abort: () => this.#abort(new SpookyError('client_aborted', 'response cancelled')),
    };
    this.#resolve(response);
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    if (this.#delivered) return;
    if (this.#held || this.#consumer === null || this.#queue.length > 0) {
      this.#queue.push(chunk);
      controller.pause();
      return;
    }
    if (!this.#offer(this.#consumer, chunk)) {
      this.#held = true;
      controller.pause();
    }
  }

  onResponseEnd(_controller: Controller, trailers: IncomingHttpHeaders): void {
    this.#finish();
    const list = endToEndList(trailers);
    if (this.#held || this.#consumer === null || this.#queue.length > 0) {
      this.#endTrailers = list;
      return;
    }
    this.#deliverEnd(this.#consumer, list);
  }

  onResponseError(_controller: Controller | null, error: Error): void {
    this.#finish();
    // Our own cancellation (client gone, deadline, body limit) wins over however undici
    // phrased the resulting failure, so it is never blamed on the backend.
    const failure = this.#request.signal.aborted ? abortError(this.#request.signal) : clientBodyFailure(error) ?? classifyUpstreamError(error, this.#requestStarted);
    if (!this.#headSeen) {
      this.#headSeen = true;
      this.#delivered = true;
      this.#detach();
      this.#reject(failure);
      return;
    }
    this.#failure ??= failure;
    this.#queue = [];
    this.#endTrailers = null;
    if (this.#consumer !== null) this.#deliverError(this.#consumer, this.#failure);
  }

  /** Flushes held chunks to the consumer; resumes the upstream when everything was taken. */
  resume(): void {
    const consumer = this.#consumer;
    if (consumer === null || this.#delivered) return;
    this.#held = false;
    while (this.#queue.length > 0) {
      const chunk = this.#queue.shift() as Uint8Array;
      if (!this.#offer(consumer, chunk)) {
        this.#held = true;
        return;
      }
      if (this.#delivered) return;
    }
    if (this.#endTrailers !== null) {
      const trailers = this.#endTrailers;
      this.#endTrailers = null;
      this.#deliverEnd(consumer, trailers);
    } else if (this.#done && this.#failure !== null) {
      this.#deliverError(consumer, this.#failure);
    } else if (!this.#done) {
      this.#controller?.resume();
    }
  }

  /**
   * Cancels this try. While undici still works on it, undici is told and reports back through
   * onResponseError. Once undici is done (the whole body may already sit in our queue because
   * the client was backpressured), the held body is dropped and the consumer fails here.
   */
  #abort(reason: Error): void {
    if (this.#delivered) return;
    this.#failure ??= reason;
    if (!this.#done) {
      if (this.#controller !== null && !this.#controller.aborted) this.#controller.abort(reason);
      return;
    }
    this.#queue = [];
    this.#endTrailers = null;
    if (this.#consumer !== null) this.#deliverError(this.#consumer, this.#failure);
  }

  /** consumer.data, contained: a throw fails this try instead of escaping into undici. */
  #offer(consumer: BodyConsumer, chunk: Uint8Array): boolean {
    try {
      return consumer.data(chunk);
    } catch (err) {
      reportInternalError('response_relay', err);
      this.#abort(new SpookyError('internal', 'response relay failed', { cause: err }));
      return false;
    }
  }

  #deliverEnd(consumer: BodyConsumer, trailers: HeaderList): void {
    if (this.#delivered) return;
    this.#delivered = true;
    this.#detach();
    try {
      consumer.end(trailers);
    } catch (err) {
      reportInternalError('response_relay', err);
    }
  }

  #deliverError(consumer: BodyConsumer, failure: Error): void {
    if (this.#delivered) return;
    this.#delivered = true;
    this.#detach();
    try {
      consumer.error(failure);
    } catch (err) {
      reportInternalError('response_relay', err);
    }
  }

  /** undici is done with the request: the body total bound has nothing left to bound. */
  #finish(): void {
    this.#done = true;
    this.#cancelBodyDeadline();
  }

  /** The try is over for the consumer too: the request signal has nothing left to cancel. */
  #detach(): void {
    this.#request.signal.removeEventListener('abort', this.#onAbort);
    this.#cancelBodyDeadline();
  }

  #cancelBodyDeadline(): void {
    if (this.#bodyDeadline === null) return;
    this.#bodyDeadline.cancel();
    this.#bodyDeadline = null;
  }
}

/** The request-body relay's client_aborted error, when undici failed because of it. */
function clientBodyFailure(error: Error): SpookyError | null {
  let cur: unknown = error;
  for (let depth = 0; depth < 4 && cur instanceof Error; depth++) {
    if (cur instanceof SpookyError && cur.code === 'client_aborted') return cur;
    cur = cur.cause;
  }
  return null;
}

/**
 * undici's parsed header object → our HeaderList of end-to-end fields, in one pass: lowercase
 * names, repeated values split, hop-by-hop fields (and those `connection` lists) left out.
 * undici already lowercases names; the hop-by-hop rules are http/hop-by-hop.ts's.
 */
function endToEndList(headers: IncomingHttpHeaders | null | undefined): HeaderList {
  const list: HeaderList = [];
  if (!headers) return list;
  const connection = headers.connection;
  const listed = connection === undefined ? NO_TOKENS : connectionTokens([['connection', Array.isArray(connection) ? connection.join(',') : String(connection)]]);
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (isHopByHop(lower, listed)) continue;
    if (Array.isArray(value)) for (const v of value) list.push([lower, v]);
    else list.push([lower, String(value)]);
  }
  return list;
}

const NO_TOKENS: ReadonlySet<string> = new Set();
