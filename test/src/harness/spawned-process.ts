/**
 * A real child process (a plane, run with this Node) whose stdout carries pino JSON lines.
 * Tests wait on log lines, never on sleeps.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export type LogLine = Record<string, unknown> & { msg?: string };

/** A log line reporting an uncaught exception or unhandled rejection: never expected in a test. */
export function isUncaughtLine(line: LogLine): boolean {
  // "internal error" is the data plane's crash barrier containing a bug: the process survives
  // it, a test must not (dataplane/src/barrier/internal-error.ts).
  return typeof line.msg === 'string' && /^(uncaught exception|unhandled rejection|internal error)$/i.test(line.msg);
}

interface Waiter {
  readonly match: (line: LogLine) => boolean;
  readonly resolve: (line: LogLine) => void;
}

export class SpawnedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly lines: LogLine[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<number | null>;
  #waiters = new Set<Waiter>();

  /**
   * `launcher`, when given, runs first and must exec `node script args` in the same process
   * (e.g. `unshare -m sh -c '… && exec "$@"' sh`), so the PID and signals stay the node's.
   */
  constructor(name: string, script: string, args: string[], env: NodeJS.ProcessEnv = {}, launcher: readonly string[] = []) {
    this.name = name;
    const argv = [...launcher, process.execPath, script, ...args];
    this.child = spawn(argv[0] as string, argv.slice(1), {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    createInterface({ input: this.child.stdout! }).on('line', (text) => {
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        line = { msg: text, raw: true };
      }
      this.lines.push(line);
      for (const w of this.#waiters) {
        if (w.match(line)) {
          this.#waiters.delete(w);
          w.resolve(line);
        }
      }
    });
    createInterface({ input: this.child.stderr! }).on('line', (text) => this.stderr.push(text));
  }

  /** Resolves with the first log line (past or future) matching; rejects on exit or timeout. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs = 20_000, from = 0): Promise<LogLine> {
    const seen = this.lines.slice(from).find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`${this.name}: timed out waiting for a log line\n${this.tail()}`));
      }, timeoutMs);
      this.#waiters.add(waiter);
      void this.exited.then((code) => {
        if (!this.#waiters.has(waiter)) return;
        this.#waiters.delete(waiter);
        clearTimeout(timer);
        reject(new Error(`${this.name} exited (${code}) before the awaited log line\n${this.tail()}`));
      });
    });
  }

  tail(n = 30): string {
    const out = this.lines.slice(-n).map((l) => JSON.stringify(l));
    return [...out, ...this.stderr.slice(-n)].join('\n');
  }

  /**
   * SIGTERM and wait for exit (SIGKILL after the grace period). Returns the exit code. Throws
   * when the process logged an uncaught exception (or node printed its crash report), so the
   * test that stops it fails: an unexpected error must never pass unnoticed.
   */
  async stop(graceMs = 10_000): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) {
      this.#failOnUncaught();
      return this.child.exitCode;
    }
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const code = await this.exited;
    clearTimeout(timer);
    this.#failOnUncaught();
    return code;
  }

  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
    this.#failOnUncaught();
  }

  #failOnUncaught(): void {
    const logged = this.lines.filter(isUncaughtLine).map((l) => JSON.stringify(l));
    // Without a handler, node reports an uncaught error on stderr and ends it with "Node.js vX.Y.Z".
    const reported = this.stderr.some((l) => /^Node\.js v\d+\.\d+\.\d+$/.test(l)) ? [this.stderr.slice(-20).join('\n')] : [];
    if (logged.length + reported.length > 0) {
      throw new Error(`${this.name} hit an uncaught exception or internal error:\n${[...logged, ...reported].join('\n')}`);
    }
  }
}
