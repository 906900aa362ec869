/**
 * CPU time of a process tree from /proc (Linux): utime + stime of every live process whose
 * parent chain reaches the root, all threads included (a process's stat sums its threads).
 * The data plane is a supervisor plus a cluster worker, so a target's cost is its whole tree.
 * CPU of a descendant that exited inside a window is lost (the parent's cutime only counts it
 * once reaped): the bench reports a tree whose membership changed mid-window as such.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcStat {
  readonly pid: number;
  readonly ppid: number;
  /** utime + stime in clock ticks. */
  readonly ticks: number;
  /** Start time after boot in clock ticks: with the pid, identifies the process. */
  readonly startTime: number;
}

/** Parses one /proc/<pid>/stat line (the command name may contain spaces and parentheses). */
export function parseStat(line: string): ProcStat | null {
  const open = line.indexOf('(');
  const close = line.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const pid = Number(line.slice(0, open).trim());
  // Fields after the name: [0] state (field 3), [1] ppid (4), [11] utime (14), [12] stime (15), [19] starttime (22).
  const fields = line.slice(close + 2).split(' ');
  const ppid = Number(fields[1]);
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const startTime = Number(fields[19]);
  if (![pid, ppid, utime, stime, startTime].every(Number.isFinite)) return null;
  return { pid, ppid, ticks: utime + stime, startTime };
}

/** One process's stat, or null when it is gone. */
export function readStat(pid: number): ProcStat | null {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'latin1'));
  } catch {
    return null;
  }
}

/** Every live process on the machine (a /proc scan: a few ms with a few hundred processes). */
export function allStats(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const s = readStat(Number(name));
    if (s) out.push(s);
  }
  return out;
}

/** The root and its live descendants (root first); empty when the root is gone. */
export function processTree(rootPid: number, stats: readonly ProcStat[] = allStats()): ProcStat[] {
  const children = new Map<number, ProcStat[]>();
  let root: ProcStat | undefined;
  for (const s of stats) {
    if (s.pid === rootPid) root = s;
    const list = children.get(s.ppid);
    if (list) list.push(s);
    else children.set(s.ppid, [s]);
  }
  if (!root) return [];
  const tree = [root];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]!.pid) ?? []));
  return tree;
}

/**
 * Thread classes of a Node process, by the thread's name (/proc/<pid>/task/<tid>/comm): the
 * process's own thread (tid = pid) runs JavaScript; `V8Worker` / `DelayedTaskSche` are V8's
 * helpers (concurrent and parallel GC, compilation); `libuv-worker` is the libuv pool; any
 * other thread is native code's own — in the data plane and the direct origin that is the
 * QUIC library's worker (it inherits the name `MainThread`) and its allocator's threads. For a
 * non-Node target (Caddy) the split means little: every Go thread but the first is "native".
 */
export const THREAD_CLASSES = ['js', 'v8', 'libuv', 'native'] as const;
export type ThreadClass = (typeof THREAD_CLASSES)[number];

export function threadClass(pid: number, tid: number, comm: string): ThreadClass {
  if (tid === pid) return 'js';
  if (comm === 'V8Worker' || comm.startsWith('DelayedTaskSch')) return 'v8';
  if (comm === 'libuv-worker') return 'libuv';
  return 'native';
}

/** Ticks by thread class over the given processes' live threads. */
export function threadTicks(pids: readonly number[]): Map<ThreadClass, number> {
  const out = new Map<ThreadClass, number>();
  for (const pid of pids) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue; // the process is gone
    }
    for (const name of tids) {
      const tid = Number(name);
      const stat = taskStat(pid, tid);
      if (!stat) continue;
      let comm: string;
      try {
        comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'latin1').trim();
      } catch {
        continue;
      }
      const cls = threadClass(pid, tid, comm);
      out.set(cls, (out.get(cls) ?? 0) + stat.ticks);
    }
  }
  return out;
}

/** One thread's stat (/proc/<pid>/task/<tid>/stat: that thread's own times only). */
function taskStat(pid: number, tid: number): ProcStat | null {
  try {
    return parseStat(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'latin1'));
  } catch {
    return null;
  }
}

/** A snapshot of several trees' CPU at one instant (one /proc scan for all of them). */
export interface TreeSample {
  /** Root pid → summed ticks of its tree. */
  readonly ticks: ReadonlyMap<number, number>;
  /** Root pid → "pid:startTime" of each member, to detect a tree that changed. */
  readonly members: ReadonlyMap<number, string>;
  /** Root pid → ticks by thread class of its tree (only for the roots asked for). */
  readonly threads: ReadonlyMap<number, ReadonlyMap<ThreadClass, number>>;
  readonly atMs: number;
}

export function sampleTrees(roots: readonly number[], threadRoots: readonly number[] = []): TreeSample {
  const stats = allStats();
  const atMs = performance.timeOrigin + performance.now();
  const ticks = new Map<number, number>();
  const members = new Map<number, string>();
  const threads = new Map<number, ReadonlyMap<ThreadClass, number>>();
  for (const root of roots) {
    const tree = processTree(root, stats);
    ticks.set(root, tree.reduce((sum, s) => sum + s.ticks, 0));
    members.set(root, tree.map((s) => `${s.pid}:${s.startTime}`).sort().join(','));
    if (threadRoots.includes(root)) threads.set(root, threadTicks(tree.map((s) => s.pid)));
  }
  return { ticks, members, threads, atMs };
}

let clockTicks: number | null = null;

/** Clock ticks per second of /proc times (`getconf CLK_TCK`, 100 on every common kernel). */
export function clockTicksPerSecond(): number {
  if (clockTicks === null) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}
