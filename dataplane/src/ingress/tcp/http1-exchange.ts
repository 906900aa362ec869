/**
 * HTTP/1.1 over TLS → Exchange. The HTTP/3 library's TCP listener (allowHTTP1) hands HTTP/1.1
 * requests to the server's `request` event as node:http objects, not to the `stream` handler;
 * this adapter gives them the same Exchange shape. Client address comes from the socket.
 *
 * Drain (tcp-connection-guard.ts): while the listener drains, every response head carries
 * `Connection: close` (node then closes the connection after it), and a finished response
 * tells the guard so it can close the connection if it is left idle (a head sent before the
 * drain said keep-alive). Cost per request: one property read per head and per close.
 *
 * Contract: called synchronously from the `request` event; returns null when ingress answered
 * the request itself (request target not in origin form → 400, recorded by ingress-reject.ts).
 */
import { Cancellation } from '../../http/cancellation.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { reportInternalError } from '../../barrier/internal-error.ts';
import type { Exchange, HeaderList, ResponseSink } from '../../http/exchange.ts';
import { waitForDrain } from '../../http/wait-for-drain.ts';
import { requestHeadFromHttp1 } from '../h3/request-head.ts';
import { answerIngressReject, type RejectedRequest, singleValue } from '../ingress-reject.ts';
import { relayBody } from '../request-body.ts';
import type { Http1Drain } from './tcp-connection-guard.ts';

export function createHttp1Exchange(req: IncomingMessage, res: ServerResponse, altSvc: string, drain: Http1Drain): Exchange | null {
  try {
    return adaptRequest(req, res, altSvc, drain);
  } catch (err) {
    // Crash barrier: this one request's connection is dropped; the process goes on.
    reportInternalError('ingress_adapter', err);
    res.destroy();
    return null;
  }
}

function adaptRequest(req: IncomingMessage, res: ServerResponse, altSvc: string, drain: Http1Drain): Exchange | null {
  const sink = new Http1ResponseSink(res, altSvc, drain);
  const controller = new Cancellation();
  const goneBeforeEnd = (): void => {
    sink.markGone();
    if (drain.draining) drain.responseDone();
    if (!res.writableFinished && !sink.finishedByServer && !controller.signal.aborted) {
      controller.abort(new Error('client went away'));
    }
  };
  req.on('error', goneBeforeEnd);
  res.on('error', goneBeforeEnd);
  res.on('close', goneBeforeEnd);

  const parsed = requestHeadFromHttp1(req.method ?? 'GET', req.url ?? '', req.rawHeaders);
  if (!parsed.ok) {
    answerIngressReject(sink, rejectedHttp1(req), 400, parsed.reason, performance.now());
    req.resume();
    return null;
  }
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? '0') > 0;
  let body: Readable | null = null;
  if (hasBody) {
    req.pause();
    const relay = relayBody(req);
    body = relay;
    res.once('finish', () => {
      if (!req.readableEnded) {
        relay.destroy();
        req.resume();
      }
    });
  } else {
    req.resume();
  }
  return {
    protocol: 'http/1.1',
    head: parsed.head,
    remoteAddress: req.socket.remoteAddress ?? null,
    remotePort: req.socket.remotePort ?? null,
    body,
    signal: controller.signal,
    response: sink,
  };
}

class Http1ResponseSink implements ResponseSink {
  readonly #res: ServerResponse;
  readonly #altSvc: string;
  readonly #drain: Http1Drain;
  #ended = false;
  #gone = false;
  #aborted = false;
  #onDone: (() => void) | null = null;

  constructor(res: ServerResponse, altSvc: string, drain: Http1Drain) {
    this.#res = res;
    this.#altSvc = altSvc;
    this.#drain = drain;
  }

  get headersSent(): boolean {
    return this.#res.headersSent;
  }

  get closed(): boolean {
    return this.#ended || this.#gone;
  }

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

  /** Called on the response's close / error: it finished (flushed) or the connection went away. */
  markGone(): void {
    this.#gone = true;
    const fn = this.#onDone;
    if (fn !== null) {
      this.#onDone = null;
      fn();
    }
  }

  sendHead(status: number, headers: HeaderList, endStream: boolean): void {
    this.#writeHead(status, headers);
    if (endStream && !this.closed) {
      this.#ended = true;
      this.#res.end();
    }
  }

  /** node sends the head and a body given to end() in one socket write. */
  sendComplete(status: number, headers: HeaderList, body: Uint8Array | null): void {
    if (this.#res.headersSent || this.closed) return;
    this.#writeHead(status, headers);
    this.#ended = true;
    if (body === null || body.byteLength === 0) this.#res.end();
    else this.#res.end(body);
  }

  #writeHead(status: number, headers: HeaderList): void {
    if (this.#res.headersSent || this.closed) return;
    const flat: string[] = [];
    for (const [name, value] of headers) {
      if (name === 'alt-svc' || name === 'connection' || name === 'keep-alive' || name === 'transfer-encoding') continue;
      flat.push(name, value);
    }
    flat.push('alt-svc', this.#altSvc);
    if (this.#drain.draining) flat.push('connection', 'close');
    this.#res.writeHead(status, flat);
  }

  write(chunk: Uint8Array): boolean {
    if (this.closed) return true;
    if (!this.#res.headersSent) this.sendHead(200, [], false);
    return this.#res.write(chunk);
  }

  drain(): Promise<void> {
    return this.closed ? Promise.resolve() : waitForDrain(this.#res);
  }

  end(trailers?: HeaderList): void {
    if (this.closed) return;
    if (!this.#res.headersSent) this.sendHead(200, [], false);
    this.#ended = true;
    // Trailers only travel with chunked encoding; node drops them silently otherwise.
    if (trailers && trailers.length > 0) {
      const t: Record<string, string> = {};
      for (const [name, value] of trailers) t[name] = t[name] === undefined ? value : `${t[name]}, ${value}`;
      this.#res.addTrailers(t);
    }
    this.#res.end();
  }

  abort(_reason: 'cancel' | 'internal'): void {
    if (this.#gone || this.#aborted) return;
    this.#ended = true;
    this.#aborted = true;
    this.#res.destroy();
  }
}

/** What ingress-reject.ts records of an HTTP/1.1 request whose head ingress refused. */
export function rejectedHttp1(req: IncomingMessage): RejectedRequest {
  return {
    protocol: 'http/1.1',
    method: req.method ?? null,
    path: req.url ?? null,
    authority: singleValue(req.headers.host),
    requestId: singleValue(req.headers['x-request-id']),
    accept: singleValue(req.headers.accept),
  };
}
