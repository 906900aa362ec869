/**
 * Test support: collects a child process's JSON log lines and waits for one matching a
 * predicate (event-driven: resolves on the line's arrival, rejects on exit or deadline).
 */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export type LogLine = Record<string, unknown>;

export class LogLines {
  readonly lines: LogLine[] = [];
  readonly #waiters = new Set<{ match: (l: LogLine) => boolean; resolve: (l: LogLine) => void; reject: (e: Error) => void }>();
  #exited: string | null = null;

  constructor(child: ChildProcess) {
    const rl = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    rl.on('line', (text) => {
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        line = { msg: text };
      }
      this.lines.push(line);
      for (const w of [...this.#waiters]) {
        if (w.match(line)) {
          this.#waiters.delete(w);
          w.resolve(line);
        }
      }
    });
    child.once('exit', (code, signal) => {
      this.#exited = `process exited (code ${code}, signal ${signal})`;
      for (const w of this.#waiters) w.reject(new Error(`${this.#exited} before the awaited log line`));
      this.#waiters.clear();
    });
  }

  /** The first line (already seen or future) for which `match` is true. */
  waitFor(match: (l: LogLine) => boolean, timeoutMs = 10_000): Promise<LogLine> {
    const seen = this.lines.find(match);
    if (seen) return Promise.resolve(seen);
    if (this.#exited) return Promise.reject(new Error(this.#exited));
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (l: LogLine) => {
          clearTimeout(timer);
          resolve(l);
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`no matching log line within ${timeoutMs} ms; last lines: ${JSON.stringify(this.lines.slice(-5))}`));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  waitForMsg(msg: string, timeoutMs?: number): Promise<LogLine> {
    return this.waitFor((l) => l['msg'] === msg, timeoutMs);
  }
}
