/**
 * Every process the bench starts goes through here, so every one of them is stopped by PID at
 * the end — on success, on an error and on Ctrl-C (the caller wires `stopAll` to those) — and,
 * as a last resort, SIGKILLed synchronously from the `exit` handler. A process is stopped with
 * its descendants (the data plane's cluster worker): their PIDs are read before the root is
 * signalled and each is killed only while its start time still matches, so a recycled PID is
 * never hit.
 */
import { type ChildProcess, type IOType, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { processTree, readStat } from './proc-cpu.ts';

export interface SpawnOptions {
  /** CPU list for `taskset -c` (the process and its children inherit it); null = not pinned. */
  readonly cpu: string | null;
  /** stdout: piped (read with `lines`), ignored, or a file descriptor. */
  readonly stdout: 'pipe' | 'ignore' | number;
  /** Adds a node IPC channel (the child must be a node script). */
  readonly ipc?: boolean;
  readonly env?: NodeJS.ProcessEnv;
}

export interface Tracked {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** Lines seen on stdout (when piped) and stderr, the last 200 of each. */
  readonly stdoutLines: string[];
  readonly stderrLines: string[];
  readonly exited: Promise<void>;
  /** Resolves with the first line (past or future, stdout or stderr) matching; rejects on exit or timeout. */
  waitForLine(match: (line: string) => boolean, timeoutMs: number): Promise<string>;
  tail(): string;
}

const KEEP_LINES = 200;

export class ProcessRegistry {
  readonly #tracked: Tracked[] = [];

  constructor() {
    process.once('exit', () => this.killAllNow());
  }

  get processes(): readonly Tracked[] {
    return this.#tracked;
  }

  spawn(name: string, command: string, args: readonly string[], opts: SpawnOptions): Tracked {
    const [cmd, argv] = opts.cpu === null ? [command, [...args]] : ['taskset', ['-c', opts.cpu, command, ...args]];
    const stdio: Array<IOType | 'ipc' | number> = ['ignore', opts.stdout === 'pipe' ? 'pipe' : opts.stdout, 'pipe'];
    if (opts.ipc) stdio.push('ipc');
    const child = spawn(cmd, argv, { env: { ...process.env, ...opts.env }, stdio: stdio as never });
    if (child.pid === undefined) throw new Error(`${name}: could not start ${command}`);
    const stdoutLines: string[] = [];
    const stderrLines: string[] = [];
    const waiters = new Set<{ match: (line: string) => boolean; resolve: (line: string) => void }>();
    const onLine = (store: string[]) => (line: string): void => {
      store.push(line);
      if (store.length > KEEP_LINES) store.shift();
      for (const w of waiters) {
        if (w.match(line)) {
          waiters.delete(w);
          w.resolve(line);
        }
      }
    };
    if (child.stdout) createInterface({ input: child.stdout }).on('line', onLine(stdoutLines));
    if (child.stderr) createInterface({ input: child.stderr }).on('line', onLine(stderrLines));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const tail = (): string => [...stdoutLines.slice(-15), ...stderrLines.slice(-15)].join('\n');
    const tracked: Tracked = {
      name,
      child,
      pid: child.pid,
      stdoutLines,
      stderrLines,
      exited,
      tail,
      waitForLine(match, timeoutMs) {
        const seen = [...stdoutLines, ...stderrLines].find(match);
        if (seen !== undefined) return Promise.resolve(seen);
        return new Promise((resolve, reject) => {
          const waiter = {
            match,
            resolve: (line: string) => {
              clearTimeout(timer);
              resolve(line);
            },
          };
          const timer = setTimeout(() => {
            waiters.delete(waiter);
            reject(new Error(`${name}: no expected output within ${timeoutMs} ms\n${tail()}`));
          }, timeoutMs);
          waiters.add(waiter);
          void exited.then(() => {
            if (!waiters.delete(waiter)) return;
            clearTimeout(timer);
            reject(new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before it was ready\n${tail()}`));
          });
        });
      },
    };
    this.#tracked.push(tracked);
    return tracked;
  }

  /** SIGTERM every process (newest first), SIGKILL whatever is left after `graceMs`. */
  async stopAll(graceMs = 5000): Promise<void> {
    // Each stays listed until it is gone, so the exit handler still kills it if the process
    // has to exit before this finished.
    await Promise.all(
      [...this.#tracked].reverse().map(async (t) => {
        await stopOne(t, graceMs);
        const i = this.#tracked.indexOf(t);
        if (i >= 0) this.#tracked.splice(i, 1);
      }),
    );
  }

  /** Synchronous last resort (the `exit` handler): SIGKILL every tracked tree. */
  killAllNow(): void {
    for (const t of this.#tracked.splice(0)) {
      for (const p of processTree(t.pid)) signal(p.pid, p.startTime, 'SIGKILL');
    }
  }
}

function alive(t: Tracked): boolean {
  return t.child.exitCode === null && t.child.signalCode === null;
}

/** Signals pid only while it is still the process that started at `startTime`. */
function signal(pid: number, startTime: number, sig: NodeJS.Signals): void {
  if (readStat(pid)?.startTime !== startTime) return;
  try {
    process.kill(pid, sig);
  } catch {
    // Gone in between.
  }
}

async function stopOne(t: Tracked, graceMs: number): Promise<void> {
  const tree = processTree(t.pid);
  if (alive(t)) {
    t.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([t.exited, new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    if (alive(t)) {
      t.child.kill('SIGKILL');
      await t.exited;
    }
  }
  // Descendants the root left behind (a worker whose supervisor was SIGKILLed).
  for (const p of tree.slice(1)) signal(p.pid, p.startTime, 'SIGKILL');
}
