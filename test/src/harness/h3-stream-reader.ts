/**
 * An HTTP/3 request whose response is watched while it streams: the test waits for a condition
 * on what arrived so far (re-checked on every response event, bounded), e.g. "the first event
 * is here" while the origin still holds the rest. Errors and early ends settle every wait.
 */
import type { ClientHttp3Stream, Http3ClientSession } from '@currentspace/http3';

type Headers = Record<string, string | string[]>;

export class H3StreamReader {
  readonly stream: ClientHttp3Stream;
  status = 0;
  headers: Headers = {};
  trailers: Headers | null = null;
  data: Buffer = Buffer.alloc(0);
  ended = false;
  error: Error | null = null;
  #checks = new Set<() => void>();

  constructor(stream: ClientHttp3Stream) {
    this.stream = stream;
    stream.on('response', (h: Headers) => {
      this.status = Number(h[':status']);
      this.headers = h;
      this.#poke();
    });
    stream.on('trailers', (t: Headers) => {
      this.trailers = t;
      this.#poke();
    });
    stream.on('data', (c: Buffer) => {
      this.data = Buffer.concat([this.data, c]);
      this.#poke();
    });
    stream.on('end', () => {
      this.ended = true;
      this.#poke();
    });
    stream.on('error', (err: Error) => {
      this.error = err;
      this.#poke();
    });
    stream.on('close', () => this.#poke());
  }

  /** Resolves once `ok(this)` holds; rejects on a stream error, on the end without it, or after `ms`. */
  waitFor(ok: (r: this) => boolean, ms: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (ok(this)) {
          settle();
          resolve();
        } else if (this.error !== null) {
          settle();
          reject(new Error(`${what}: stream failed: ${this.error.message}`));
        } else if (this.ended || this.stream.destroyed) {
          settle();
          reject(new Error(`${what}: stream ended without it (${this.data.length} bytes)`));
        }
      };
      const timer = setTimeout(() => {
        settle();
        reject(new Error(`${what}: not within ${ms} ms (${this.data.length} bytes so far)`));
      }, ms);
      const settle = (): void => {
        clearTimeout(timer);
        this.#checks.delete(check);
      };
      this.#checks.add(check);
      check();
    });
  }

  #poke(): void {
    for (const c of [...this.#checks]) c();
  }
}

/** Opens a request on `session` (body sent and FIN'd when given) and watches its response. */
export async function openH3Stream(session: Http3ClientSession, headers: Record<string, string>, body?: Buffer): Promise<H3StreamReader> {
  const stream = await session.requestAsync(headers, { endStream: body === undefined });
  const reader = new H3StreamReader(stream);
  if (body !== undefined) stream.end(body);
  return reader;
}
