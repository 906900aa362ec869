/**
 * In-memory Exchange test double: what an ingress adapter would hand the pipeline, with a
 * ResponseSink that records everything. `highWaterMark` makes write() report a full buffer
 * (false) once that many bytes are unflushed; the buffer "flushes" on the next macrotask,
 * which resolves drain(). For tests only — the ingress is the one thing it fakes.
 */
import { Readable } from 'node:stream';
import type { ClientProtocol, Exchange, HeaderList, RequestHead, ResponseSink } from './exchange.ts';

export interface MemoryExchangeOptions {
  readonly method?: string;
  readonly path: string;
  readonly authority?: string | null;
  readonly scheme?: string;
  readonly headers?: HeaderList;
  /** Request body chunks; omitted = no body. */
  readonly body?: readonly Uint8Array[];
  readonly protocol?: ClientProtocol;
  readonly remoteAddress?: string | null;
  readonly highWaterMark?: number;
}

export class MemorySink implements ResponseSink {
  status = 0;
  headers: HeaderList = [];
  readonly chunks: Buffer[] = [];
  trailers: HeaderList | undefined;
  endedWithHead = false;
  aborted: 'cancel' | 'internal' | null = null;
  ended = false;
  writesRefused = 0;
  #headersSent = false;
  #unflushed = 0;
  #waiters: Array<() => void> = [];
  readonly #highWaterMark: number;
  readonly #finished: PromiseWithResolvers<void> = Promise.withResolvers<void>();

  constructor(highWaterMark: number) {
    this.#highWaterMark = highWaterMark;
  }

  get headersSent(): boolean {
    return this.#headersSent;
  }
  get closed(): boolean {
    return this.ended || this.aborted !== null;
  }
  /** Resolves when the response ended or was aborted. */
  get finished(): Promise<void> {
    return this.#finished.promise;
  }
  get body(): Buffer {
    return Buffer.concat(this.chunks);
  }
  header(name: string): string | undefined {
    return this.headers.find(([n]) => n === name)?.[1];
  }

  sendHead(status: number, headers: HeaderList, endStream: boolean): void {
    if (this.#headersSent) throw new Error('head sent twice');
    this.#headersSent = true;
    this.status = status;
    this.headers = headers;
    if (endStream) {
      this.endedWithHead = true;
      this.#close();
    }
  }
  /** Counted so tests can see the one-call path was taken. */
  completeCalls = 0;
  sendComplete(status: number, headers: HeaderList, body: Uint8Array | null): void {
    this.completeCalls++;
    const empty = body === null || body.byteLength === 0;
    this.sendHead(status, headers, empty);
    if (!empty) {
      this.chunks.push(Buffer.from(body));
      this.#close();
    }
  }
  write(chunk: Uint8Array): boolean {
    if (!this.#headersSent || this.closed) throw new Error('write outside a body');
    this.chunks.push(Buffer.from(chunk));
    this.#unflushed += chunk.byteLength;
    if (this.#unflushed < this.#highWaterMark) return true;
    this.writesRefused++;
    setImmediate(() => {
      this.#unflushed = 0;
      for (const w of this.#waiters.splice(0)) w();
    });
    return false;
  }
  drain(): Promise<void> {
    if (this.#unflushed < this.#highWaterMark || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
  end(trailers?: HeaderList): void {
    if (this.closed) throw new Error('end after close');
    this.trailers = trailers;
    this.#close();
  }
  abort(reason: 'cancel' | 'internal'): void {
    if (this.closed) return;
    this.aborted = reason;
    this.#close();
  }
  get done(): boolean {
    return this.closed;
  }
  whenDone(fn: () => void): void {
    if (this.closed) fn();
    else void this.#finished.promise.then(fn);
  }
  #close(): void {
    this.ended = this.ended || this.aborted === null;
    for (const w of this.#waiters.splice(0)) w();
    this.#finished.resolve();
  }
}

export function createMemoryExchange(options: MemoryExchangeOptions): Exchange & { readonly response: MemorySink; readonly abortController: AbortController } {
  const head: RequestHead = {
    method: options.method ?? 'GET',
    scheme: options.scheme ?? 'https',
    authority: options.authority === undefined ? 'localhost' : options.authority,
    path: options.path,
    headers: options.headers ?? [],
  };
  const abortController = new AbortController();
  const body = options.body === undefined ? null : Readable.from(options.body.map((c) => Buffer.from(c)), { objectMode: false });
  body?.pause();
  return {
    protocol: options.protocol ?? 'h3',
    head,
    remoteAddress: options.remoteAddress === undefined ? '203.0.113.9' : options.remoteAddress,
    remotePort: 40000,
    body,
    signal: abortController.signal,
    response: new MemorySink(options.highWaterMark ?? 1 << 30),
    abortController,
  };
}
