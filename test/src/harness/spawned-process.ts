/**
 * A real child process (a plane, run with this Node) whose stdout carries pino JSON lines.
 * Tests wait on log lines, never on sleeps.
 *
 * Every wait here is bounded. The child leads its own process group (`detached`), so the
 * SIGKILL that ends a stop or a kill reaches what it started too (a data plane's cluster
 * workers): a worker outliving its primary would hold the stdout pipe open and keep the test
 * process from ever exiting.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';

export type LogLine = Record<string, unknown> & { msg?: string };

/** A log line reporting an uncaught exception or unhandled rejection: never expected in a test. */
export function isUncaughtLine(line: LogLine): boolean {
  // "internal error" is the data plane's crash barrier containing a bug: the process survives
  // it, a test must not (dataplane/src/barrier/internal-error.ts).
  return typeof line.msg === 'string' && /^(uncaught exception|unhandled rejection|internal error)$/i.test(line.msg);
}

/** How long a process may take to be gone once SIGKILLed before stop()/kill() throw. */
const KILL_WAIT_MS = 5_000;

/**
 * Resolves or rejects as `promise` does, or rejects after `ms` with "`what`: not done within
 * ms" (the promise is left to settle on its own). For teardown steps that must not hang.
 */
export function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
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
      detached: true,
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
   * SIGTERM and wait for exit; after `graceMs` SIGKILL to the process group (the child and
   * whatever it started), then at most KILL_WAIT_MS more (else this throws). Returns the exit
   * code. Throws when the process logged an uncaught exception (or node printed its crash
   * report), so the test that stops it fails: an unexpected error must never pass unnoticed.
   */
  async stop(graceMs = 10_000): Promise<number | null> {
    if (!this.#gone()) {
      this.child.kill('SIGTERM');
      const exited = await bounded(this.exited, graceMs, `${this.name}: exit after SIGTERM`).then(
        () => true,
        () => false,
      );
      if (!exited) await this.#killGroup();
    }
    this.#sweepGroup();
    this.#failOnUncaught();
    return this.child.exitCode;
  }

  /** SIGKILL to the process group; resolves once the child is gone (throws after KILL_WAIT_MS). */
  async kill(): Promise<void> {
    if (!this.#gone()) await this.#killGroup();
    this.#sweepGroup();
    this.#failOnUncaught();
  }

  #gone(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  async #killGroup(): Promise<void> {
    this.#signalGroup('SIGKILL');
    this.child.kill('SIGKILL'); // the child itself, should it have left the group
    await bounded(this.exited, KILL_WAIT_MS, `${this.name}: exit after SIGKILL`);
  }

  /**
   * After the child is gone: SIGKILL to what is left of its group (workers of a primary that
   * was killed). Only while the group is provably ours: a live process with the child's pid
   * means the pid was reused, and with it possibly the group id (then nothing is signalled).
   */
  #sweepGroup(): void {
    const pid = this.child.pid;
    if (pid === undefined || existsSync(`/proc/${pid}`)) return;
    this.#signalGroup('SIGKILL');
  }

  /** Signals the child's process group; a group already empty (ESRCH) is fine. */
  #signalGroup(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'ESRCH') throw err;
    }
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
