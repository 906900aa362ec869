/**
 * Resident memory of a data plane, read from /proc (Linux only). The process a test spawns may
 * be a supervisor whose cluster worker(s) do the serving; the serving processes are then its
 * node children. `servingPids` finds them and falls back to the spawned PID itself when it has
 * no children, so the probe keeps working whichever process model the data plane has.
 */
import { readdirSync, readFileSync } from 'node:fs';

const MiB = 1024 * 1024;

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** Direct children of `pid` (via /proc/PID/task/TID/children, else a scan of /proc/N/stat). */
export function childPids(pid: number): number[] {
  const out = new Set<number>();
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  let sawChildrenFile = false;
  for (const tid of tasks) {
    const text = read(`/proc/${pid}/task/${tid}/children`);
    if (text === null) continue;
    sawChildrenFile = true;
    for (const p of text.split(/\s+/)) if (p !== '') out.add(Number(p));
  }
  if (sawChildrenFile) return [...out];
  // Kernels without CONFIG_PROC_CHILDREN: field 4 of /proc/N/stat is the parent PID (the
  // command name in field 2 may hold spaces or parentheses, so split after the last ')').
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = read(`/proc/${entry}/stat`);
    if (stat === null) continue;
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === pid) out.add(Number(entry));
  }
  return [...out];
}

/** The processes that serve traffic for the data plane spawned as `pid`: its node children, else itself. */
export function servingPids(pid: number): number[] {
  const children = childPids(pid).filter((c) => (read(`/proc/${c}/cmdline`) ?? '').split('\0')[0]?.endsWith('node') ?? false);
  return children.length > 0 ? children.sort((a, b) => a - b) : [pid];
}

/** VmRSS of `pid` in bytes, or null when the process is gone. */
export function rssBytes(pid: number): number | null {
  const status = read(`/proc/${pid}/status`);
  const m = status?.match(/^VmRSS:\s+(\d+)\s+kB$/m);
  return m ? Number(m[1]) * 1024 : null;
}

/**
 * Samples the largest serving process's RSS every `intervalMs` (each worker has its own heap,
 * so the bound is per serving process) until stopped. Sampling is cheap: two small /proc reads.
 */
export class RssProbe {
  readonly #pid: number;
  readonly #timer: NodeJS.Timeout;
  #maxBytes = 0;
  #samples = 0;

  constructor(pid: number, intervalMs = 100) {
    this.#pid = pid;
    this.sample();
    this.#timer = setInterval(() => this.sample(), intervalMs);
  }

  sample(): number {
    let largest = 0;
    for (const p of servingPids(this.#pid)) largest = Math.max(largest, rssBytes(p) ?? 0);
    if (largest > 0) this.#samples++;
    this.#maxBytes = Math.max(this.#maxBytes, largest);
    return largest;
  }

  /** Takes a last sample, stops, and returns the peak in MiB (rounded up) and the sample count. */
  stop(): { maxMB: number; samples: number } {
    this.sample();
    clearInterval(this.#timer);
    return { maxMB: Math.ceil(this.#maxBytes / MiB), samples: this.#samples };
  }
}
