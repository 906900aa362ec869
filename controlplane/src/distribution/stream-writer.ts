/**
 * Ordered writes on one server stream with backpressure: each batch (e.g. a Push and its
 * Chunks) goes out contiguously and a full write buffer is waited out ('drain') instead of
 * buffering a whole generation per slow node. Writes after the stream closed are dropped.
 */
import type { Writable } from 'node:stream';

export class StreamWriter<T> {
  readonly #stream: Writable;
  #tail: Promise<void> = Promise.resolve();
  #closed = false;
  #wakeOnClose: (() => void) | null = null;

  constructor(stream: Writable) {
    this.#stream = stream;
  }

  /** Queues `messages` after every earlier batch; resolves when written or dropped. */
  send(messages: readonly T[]): Promise<void> {
    const next = this.#tail.then(() => this.#writeAll(messages));
    this.#tail = next.catch(() => undefined);
    return this.#tail;
  }

  /** Stop writing; queued batches are dropped. */
  close(): void {
    this.#closed = true;
    this.#wakeOnClose?.();
  }

  async #writeAll(messages: readonly T[]): Promise<void> {
    for (const message of messages) {
      if (this.#closed || this.#stream.writableEnded || this.#stream.destroyed) return;
      if (!this.#stream.write(message)) await this.#drained();
    }
  }

  #drained(): Promise<void> {
    return new Promise((resolve) => {
      const events = ['drain', 'close', 'error'] as const;
      const done = (): void => {
        for (const event of events) this.#stream.off(event, done);
        this.#wakeOnClose = null;
        resolve();
      };
      for (const event of events) this.#stream.once(event, done);
      this.#wakeOnClose = done;
    });
  }
}
