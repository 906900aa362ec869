/**
 * ReplayableBody: a request body that a retry can send again. Each try reads it through its
 * own `reader()`: the chunks already taken from the client first, then the rest pulled from
 * the client stream. Pulled chunks are kept while the total stays within `maxBytes`
 * (`retries.max_replay_body_bytes`); once it is exceeded the kept chunks are dropped and
 * `replayable` turns false for good (the request is then not retried: `body_not_replayable`).
 * Memory is therefore bounded by `maxBytes` per request; nothing is read ahead of the
 * transport (a chunk is pulled only when the current try asks for one).
 *
 * Contract: tries read one after the other (the previous try ended before the next reads).
 * The client stream's iterator is never returned by a reader (a try that stops reading leaves
 * it for the next); `close()` (the request's defer) releases it.
 */
import type { Readable } from 'node:stream';

export class ReplayableBody {
  readonly #source: AsyncIterator<Uint8Array>;
  readonly #maxBytes: number;
  #chunks: Uint8Array[] = [];
  #size = 0;
  #overflow = false;
  #sourceDone = false;
  #pulling: Promise<Uint8Array | null> | null = null;

  constructor(source: Readable, maxBytes: number) {
    this.#source = (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    this.#maxBytes = maxBytes;
  }

  /** Another try may send this body again (all of it so far is kept, or none was read). */
  get replayable(): boolean {
    return !this.#overflow;
  }

  /** The body for one try. */
  reader(): AsyncIterable<Uint8Array> {
    const self = this;
    return (async function* read() {
      let index = 0;
      for (;;) {
        if (!self.#overflow && index < self.#chunks.length) {
          yield self.#chunks[index++] as Uint8Array;
          continue;
        }
        if (self.#sourceDone) return;
        const chunk = await self.#pull();
        if (chunk === null) return;
        if (!self.#overflow) index++;
        yield chunk;
      }
    })();
  }

  /** Releases the client stream's iterator (request finished). */
  close(): void {
    this.#chunks = [];
    if (!this.#sourceDone) {
      this.#sourceDone = true;
      this.#source.return?.().catch(() => undefined);
    }
  }

  #pull(): Promise<Uint8Array | null> {
    this.#pulling ??= this.#source.next().then(
      (r) => {
        this.#pulling = null;
        if (r.done === true) {
          this.#sourceDone = true;
          return null;
        }
        const chunk = r.value;
        if (!this.#overflow) {
          this.#size += chunk.byteLength;
          if (this.#size > this.#maxBytes) {
            this.#overflow = true;
            this.#chunks = [];
          } else this.#chunks.push(chunk);
        }
        return chunk;
      },
      (err: unknown) => {
        this.#pulling = null;
        throw err;
      },
    );
    return this.#pulling;
  }
}
