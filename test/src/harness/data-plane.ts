/**
 * The one way the end-to-end suites (and the demo) start a real data plane: a child process
 * attached to a control plane or standalone on a config file, with any extra flags, plus reads
 * of its admin endpoints. Ready once it logged "data plane started" (admin bound); whether a
 * generation is applied yet is the caller's wait (waitForApplied, or a log line).
 * The process spawned is the primary (dataplane/src/bootstrap/primary.ts): the node identity
 * (admin, control-plane session, disk cache) and the supervisor of the serving workers. The
 * suites run ONE worker unless `extra` says `--workers N` (or `--no-supervise`): two cores are
 * shared by everything here. `pid` is the primary's, `workerPid` the first worker's.
 */
import { join } from 'node:path';
import { SpawnedProcess } from './spawned-process.ts';

export const DATA_PLANE_MAIN = join(import.meta.dirname, '..', '..', '..', 'dataplane', 'src', 'main.ts');

/** Where the data plane takes its config from: a control plane (gRPC) or a local file. */
export type DataPlaneSource =
  | { readonly controlPlane: string; readonly nodeId: string; readonly scope: string; readonly cacheDir: string }
  | { readonly config: string };

export type DataPlaneOptions = DataPlaneSource & {
  /** `--admin` address; default 127.0.0.1:0 (the bound one is in `admin`). */
  readonly admin?: string;
  /** Flags appended as given, e.g. `['--cache-grace-ms', '200']`. */
  readonly extra?: readonly string[];
  /** Extra environment, e.g. `{NODE_OPTIONS: '--max-old-space-size=96'}` (supervisor and worker both get it). */
  readonly env?: NodeJS.ProcessEnv;
  /** A command that execs the data plane in the same process (SpawnedProcess), e.g. into a namespace. */
  readonly launcher?: readonly string[];
  /** Called with the process right after it is spawned, so a caller can end it if `start` then fails. */
  readonly onSpawn?: (proc: SpawnedProcess) => void;
};

export class DataPlane {
  readonly proc: SpawnedProcess;
  /** `http://host:port` of the admin server. */
  readonly admin: string;
  /** The boot id this process announces in its Hello. */
  readonly bootId: string;
  /** PID of the primary: the process holding the control-plane session (SIGSTOP it to freeze the node). */
  readonly pid: number;
  /** PID of the serving worker that started first (the primary's own with `--no-supervise`). */
  readonly workerPid: number;

  private constructor(proc: SpawnedProcess, admin: string, bootId: string, pid: number, workerPid: number) {
    this.proc = proc;
    this.admin = admin;
    this.bootId = bootId;
    this.pid = pid;
    this.workerPid = workerPid;
  }

  /** Spawns `node dataplane/src/main.ts …` and resolves once its admin server is up. */
  static async start(opts: DataPlaneOptions): Promise<DataPlane> {
    const source = 'config' in opts
      ? ['--config', opts.config]
      : ['--control-plane', opts.controlPlane, '--node-id', opts.nodeId, '--scope', opts.scope, '--cache-dir', opts.cacheDir];
    const name = 'config' in opts ? 'data-plane' : `data-plane ${opts.nodeId}`;
    const extra = opts.extra ?? [];
    const workers = extra.includes('--workers') || extra.includes('--no-supervise') ? [] : ['--workers', '1'];
    const proc = new SpawnedProcess(name, DATA_PLANE_MAIN, [...source, '--admin', opts.admin ?? '127.0.0.1:0', ...workers, ...extra], opts.env, opts.launcher);
    opts.onSpawn?.(proc);
    const started = await proc.waitForLog((l) => l.msg === 'data plane started');
    const pid = Number(started['pid']);
    const worker = extra.includes('--no-supervise') ? started : await proc.waitForLog((l) => l.msg === 'worker ready');
    return new DataPlane(proc, String(started['admin']), String(started['bootId']), pid, Number(worker['pid']));
  }

  /** Resolves when the data plane logs that it applied generation `seq`. */
  waitForApplied(seq: number, timeoutMs = 20_000) {
    return this.proc.waitForLog((l) => l.msg === 'generation applied' && l['seq'] === seq, timeoutMs);
  }

  /** Resolves when the data plane logs that it rejected generation `seq`. */
  waitForRejected(seq: number, timeoutMs = 20_000) {
    return this.proc.waitForLog((l) => l.msg === 'generation rejected' && l['seq'] === seq, timeoutMs);
  }
}

/** The admin server's `GET /generation` answer. */
export interface GenerationView {
  serving: { scope: string; seq: number; digest: string; source: string } | null;
  /** A candidate held beside `serving` during a staged rollout (in-node canary), or null. */
  candidate?: { scope: string; seq: number; digest: string; percent: number } | null;
  reason?: string;
  listeners: { address: string; port: number }[];
}

/** Bound on one admin request (a hung data plane fails the test instead of stalling it). */
const ADMIN_FETCH_MS = 10_000;

export async function adminGeneration(admin: string): Promise<GenerationView> {
  const res = await fetch(`${admin}/generation`, { signal: AbortSignal.timeout(ADMIN_FETCH_MS) });
  return (await res.json()) as GenerationView;
}

/**
 * Resolves once `GET /ready` answers 200, polling every 25 ms, or rejects after `timeoutMs`.
 * With several workers 'generation applied' can precede the last worker's first health
 * verdict, so a test that needs "ready" waits for it rather than for a log line.
 */
export async function waitUntilReady(admin: string, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if ((await adminReadyStatus(admin)) === 200) return;
    if (performance.now() > deadline) throw new Error(`${admin}/ready not 200 within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The status code of `GET /ready` (200 serving, 503 not). */
export async function adminReadyStatus(admin: string): Promise<number> {
  const res = await fetch(`${admin}/ready`, { signal: AbortSignal.timeout(ADMIN_FETCH_MS) });
  await res.arrayBuffer();
  return res.status;
}
