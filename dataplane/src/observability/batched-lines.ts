/**
 * Access-log lines are written in batches: appended to one pending string and handed to the
 * log destination once per event-loop turn (setImmediate), or at once when 64 KiB are
 * pending. One write per turn instead of one synchronous write syscall per request.
 *
 * Nothing is lost on a normal or crash exit: `process.on('exit')` flushes synchronously
 * (the destination is pino's synchronous SonicBoom on stdout). A SIGKILL loses at most the
 * lines of the current turn. Lines from the process logger and from here share the same
 * destination, so each line is whole; an access line may land after a log line written later
 * in the same turn.
 */

/** What the batch is written to: pino's destination (SonicBoom) or any sink with write(). */
export interface LineSink {
  write(data: string): unknown;
}

const FLUSH_AT = 64 * 1024;

export class BatchedLines {
  readonly #sink: LineSink;
  #pending = '';
  #scheduled = false;
  readonly #flushNow = (): void => this.flush();
  readonly #onTurn = (): void => {
    this.#scheduled = false;
    this.flush();
  };

  constructor(sink: LineSink) {
    this.#sink = sink;
    process.on('exit', this.#flushNow);
  }

  /** Queues one line (ending in "\n"). */
  push(line: string): void {
    this.#pending += line;
    if (this.#pending.length >= FLUSH_AT) {
      this.flush();
      return;
    }
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#onTurn);
    }
  }

  /** Writes whatever is pending now. */
  flush(): void {
    if (this.#pending === '') return;
    const batch = this.#pending;
    this.#pending = '';
    this.#sink.write(batch);
  }

  /** Flushes and stops listening for process exit. */
  close(): void {
    this.flush();
    process.off('exit', this.#flushNow);
  }
}
