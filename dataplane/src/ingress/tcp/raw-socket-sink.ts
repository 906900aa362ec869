/**
 * ResponseSink over a client connection that node's HTTP/1.1 parser has handed over (the
 * server's 'upgrade' / 'connect' events give a socket, no ServerResponse). It writes HTTP/1.1
 * heads by hand. Two uses:
 *  - local replies (sendComplete): the head with `connection: close`, the body, then the
 *    connection is ended (nothing may follow a refused upgrade on this connection);
 *  - the tunnel's 101 / 200 head (sendHead with endStream false): after it the tunnel stage
 *    relays bytes on the socket itself; write/end/abort still work for completeness.
 * `done` turns true when the socket closes.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { HeaderList, ResponseSink } from '../../http/exchange.ts';
import { waitForDrain } from '../../http/wait-for-drain.ts';
import { serializeResponseHead } from '../../tunnel/tunnel-wire.ts';

/** Never copied from a local reply's headers: the sink frames the response itself. */
const FRAMING: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'transfer-encoding', 'alt-svc']);

export class RawSocketSink implements ResponseSink {
  readonly #socket: Duplex;
  readonly #altSvc: string;
  #headersSent = false;
  #ended = false;
  #gone = false;
  #onDone: (() => void) | null = null;

  constructor(socket: Duplex, altSvc: string) {
    this.#socket = socket;
    this.#altSvc = altSvc;
    socket.once('close', () => {
      this.#gone = true;
      const fn = this.#onDone;
      this.#onDone = null;
      fn?.();
    });
  }

  get headersSent(): boolean {
    return this.#headersSent;
  }

  get closed(): boolean {
    return this.#ended || this.#gone || this.#socket.destroyed;
  }

  get done(): boolean {
    return this.#gone;
  }

  whenDone(fn: () => void): void {
    if (this.#gone) fn();
    else this.#onDone = fn;
  }

  /** Tunnel heads (101, 200) are written as given: the tunnel stage chose their headers. */
  sendHead(status: number, headers: HeaderList, endStream: boolean): void {
    if (this.#headersSent || this.closed) return;
    this.#headersSent = true;
    this.#socket.write(serializeResponseHead(status, STATUS_CODES[status] ?? 'Unknown', headers));
    if (endStream) this.end();
  }

  sendComplete(status: number, headers: HeaderList, body: Uint8Array | null): void {
    if (this.#headersSent || this.closed) return;
    const out: HeaderList = [];
    let length = false;
    for (const entry of headers) {
      if (FRAMING.has(entry[0])) continue;
      if (entry[0] === 'content-length') length = true;
      out.push(entry);
    }
    if (!length) out.push(['content-length', String(body?.byteLength ?? 0)]);
    out.push(['alt-svc', this.#altSvc], ['connection', 'close']);
    this.#headersSent = true;
    this.#ended = true;
    const head = serializeResponseHead(status, STATUS_CODES[status] ?? 'Unknown', out);
    this.#socket.end(body === null || body.byteLength === 0 ? head : Buffer.concat([head, body]));
  }

  write(chunk: Uint8Array): boolean {
    if (this.closed) return true;
    return this.#socket.write(chunk);
  }

  drain(): Promise<void> {
    return this.closed ? Promise.resolve() : waitForDrain(this.#socket);
  }

  end(_trailers?: HeaderList): void {
    if (this.closed) return;
    this.#ended = true;
    this.#socket.end();
  }

  abort(_reason: 'cancel' | 'internal'): void {
    if (this.#gone) return;
    this.#ended = true;
    this.#socket.destroy();
  }
}
