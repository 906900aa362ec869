/**
 * undici DispatchHandler for one upstream try. Turns undici's callbacks into the
 * BackendTransport contract: resolve with an UpstreamResponse at the final response head
 * (body held paused until `stream()`), reject with a SpookyError before it; after the head,
 * body chunks go to the consumer with backpressure (consumer says false → controller.pause()
 * until `resume()`), trailers on end, failures to `consumer.error`.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { abortError, SpookyError } from '../errors.ts';
import type { BodyConsumer, UpstreamRequest, UpstreamResponse } from '../http/backend-transport.ts';
import type { HeaderList } from '../http/exchange.ts';
import { endToEndHeaders } from '../http/hop-by-hop.ts';
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
  #done = false;
  readonly #onAbort = () => this.#abort(abortError(this.#request.signal));

  constructor(request: UpstreamRequest, resolve: (r: UpstreamResponse) => void, reject: (e: Error) => void) {
    this.#request = request;
    this.#resolve = resolve;
    this.#reject = reject;
    if (request.signal.aborted) this.#failure = abortError(request.signal);
    else request.signal.addEventListener('abort', this.#onAbort, { once: true });
  }

  onRequestStart(controller: Controller): void {
    this.#controller = controller;
    if (this.#failure !== null) controller.abort(this.#failure);
  }

  onResponseStart(controller: Controller, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200 || this.#headSeen) return; // 1xx informational: not relayed
    this.#headSeen = true;
    controller.pause();
    const response: UpstreamResponse = {
      status: statusCode,
      headers: endToEndHeaders(toHeaderList(headers)),
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
    if (this.#held || this.#consumer === null || this.#queue.length > 0) {
      this.#queue.push(chunk);
      controller.pause();
      return;
    }
    if (!this.#consumer.data(chunk)) {
      this.#held = true;
      controller.pause();
    }
  }

  onResponseEnd(_controller: Controller, trailers: IncomingHttpHeaders): void {
    this.#finish();
    const list = endToEndHeaders(toHeaderList(trailers));
    if (this.#held || this.#consumer === null || this.#queue.length > 0) {
      this.#endTrailers = list;
      return;
    }
    this.#consumer.end(list);
  }

  onResponseError(_controller: Controller | null, error: Error): void {
    this.#finish();
    if (!this.#headSeen) {
      this.#headSeen = true;
      this.#reject(classifyUpstreamError(error));
      return;
    }
    const failure = classifyUpstreamError(error);
    if (this.#consumer === null) {
      this.#failure = failure;
      return;
    }
    this.#queue = [];
    this.#consumer.error(failure);
  }

  /** Flushes held chunks to the consumer; resumes the upstream when everything was taken. */
  resume(): void {
    const consumer = this.#consumer;
    if (consumer === null) return;
    this.#held = false;
    while (this.#queue.length > 0) {
      const chunk = this.#queue.shift() as Uint8Array;
      if (!consumer.data(chunk)) {
        this.#held = true;
        return;
      }
    }
    if (this.#endTrailers !== null) {
      const trailers = this.#endTrailers;
      this.#endTrailers = null;
      consumer.end(trailers);
    } else if (this.#done && this.#failure !== null) {
      consumer.error(this.#failure);
    } else if (!this.#done) {
      this.#controller?.resume();
    }
  }

  #abort(reason: Error): void {
    if (this.#done) return;
    this.#failure = reason;
    if (this.#controller !== null && !this.#controller.aborted) this.#controller.abort(reason);
  }

  #finish(): void {
    this.#done = true;
    this.#request.signal.removeEventListener('abort', this.#onAbort);
  }
}

/** undici's parsed header object → our HeaderList (lowercase names, repeated values split). */
function toHeaderList(headers: IncomingHttpHeaders | null | undefined): HeaderList {
  const list: HeaderList = [];
  if (!headers) return list;
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (Array.isArray(value)) for (const v of value) list.push([lower, v]);
    else list.push([lower, String(value)]);
  }
  return list;
}
