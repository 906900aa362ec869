/**
 * Starting the systems under test. A target is one process tree pinned to the SUT core and an
 * HTTP/3 port; the bench measures the CPU of `rootPid`'s whole tree. Proxy targets forward to
 * the shared Node origins (`originPid`, on the load core, measured separately).
 */
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../../test/src/harness/free-port.ts';
import type { ProcessRegistry, Tracked } from './process-registry.ts';
import { caddyJson, type ResilienceVariant, spookyYaml } from './target-configs.ts';

const HERE = import.meta.dirname;
const DATA_PLANE_MAIN = join(HERE, '..', '..', '..', 'dataplane', 'src', 'main.ts');
const START_TIMEOUT_MS = 30_000;

export type TargetKind = 'direct' | 'spooky' | 'caddy';

export interface Target {
  /** Stable key: `direct`, `direct-aa`, `spooky-h1`, `spooky-h2`, `caddy-h1`, `caddy-h2` (and the opt-in ones, bench-options.ts). */
  readonly key: string;
  readonly label: string;
  readonly kind: TargetKind;
  readonly port: number;
  readonly authority: string;
  readonly rootPid: number;
  readonly originPid: number | null;
}

export interface Certs {
  readonly cert: string;
  readonly key: string;
}

export interface NodeOrigins {
  readonly pid: number;
  readonly h1: number;
  /** HTTP/1.1 over TLS (ALPN `http/1.1` only). */
  readonly h1tls: number;
  readonly h2: number;
}

function jsonLine(proc: Tracked): Promise<Record<string, number>> {
  return proc.waitForLine((l) => l.startsWith('{'), START_TIMEOUT_MS).then((l) => JSON.parse(l) as Record<string, number>);
}

export async function startNodeOrigins(reg: ProcessRegistry, certs: Certs, cpu: string | null): Promise<NodeOrigins> {
  const proc = reg.spawn('node origins', process.execPath, [join(HERE, 'node-origins-main.ts'), certs.cert, certs.key], { cpu, stdout: 'pipe' });
  const ports = await jsonLine(proc);
  return { pid: proc.pid, h1: Number(ports['h1']), h1tls: Number(ports['h1tls']), h2: Number(ports['h2']) };
}

export async function startDirect(reg: ProcessRegistry, certs: Certs, cpu: string | null): Promise<Omit<Target, 'key' | 'label'>> {
  const proc = reg.spawn('direct origin', process.execPath, [join(HERE, 'direct-origin-main.ts'), certs.cert, certs.key], { cpu, stdout: 'pipe' });
  const { port } = await jsonLine(proc);
  return { kind: 'direct', port: Number(port), authority: `localhost:${port}`, rootPid: proc.pid, originPid: null };
}

/**
 * Spooky standalone, as a user runs it: `node dataplane/src/main.ts --config <yaml> --admin
 * 127.0.0.1:0 [more.args]` (supervisor + worker(s), access log on). Its stdout (the access log)
 * goes to a file in the run directory; the caller may truncate it between cells. Ready once the
 * admin `/generation` shows the file served on a listener (the primary answers so only when
 * every worker applied it). `admin` is the admin base URL (`/metrics`).
 */
export async function startSpooky(
  reg: ProcessRegistry,
  dir: string,
  name: string,
  certs: Certs,
  upstream: string,
  origins: NodeOrigins,
  cpu: string | null,
  more: {
    readonly args?: readonly string[];
    readonly label?: string;
    readonly env?: NodeJS.ProcessEnv;
    readonly resilience?: ResilienceVariant;
    readonly main?: string;
    /** Keep the data plane's idle memory release on (only the memory bench measures it). */
    readonly idleRelease?: boolean;
  } = {},
): Promise<Target & { readonly logFile: string; readonly admin: string }> {
  const configFile = join(dir, `${name}.yaml`);
  const logFile = join(dir, `${name}.log`);
  const h2 = upstream.startsWith('https:');
  let lastError: unknown = null;
  // The config needs a concrete port (1–65535), chosen before Spooky binds it: retry if taken.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    writeFileSync(configFile, spookyYaml({ ...certs, upstream, port, ...(more.resilience ? { resilience: more.resilience } : {}) }));
    const fd = openSync(logFile, 'w');
    // The idle release off unless asked for: interleaved cells leave each target idle for tens
    // of seconds, long enough for its blocking last-resort GC to run on the shared core during
    // another target's window, and for its own next window to start on a shrunk heap — an
    // artefact of taking turns, not what continuous traffic sees (bench/README.md, "The idle
    // release in interleaved runs"). The caller's env wins.
    const env = { ...(more.idleRelease ? {} : { SPOOKY_IDLE_GC: '0' }), ...more.env };
    const proc = reg.spawn(name, process.execPath, [more.main ?? DATA_PLANE_MAIN, '--config', configFile, '--admin', '127.0.0.1:0', ...(more.args ?? [])], { cpu, stdout: fd, env });
    closeSync(fd);
    try {
      const started = await waitForFileLine(logFile, proc, (l) => l.includes('"data plane started"'));
      const admin = String((JSON.parse(started) as { admin: unknown }).admin);
      await waitServing(admin, proc, logFile);
      return { key: name, label: more.label ?? `Spooky → ${h2 ? 'H2' : 'H1'}`, kind: 'spooky', port, authority: `localhost:${port}`, rootPid: proc.pid, originPid: origins.pid, logFile, admin };
    } catch (err) {
      lastError = err;
      proc.child.kill('SIGKILL');
      await proc.exited;
    }
  }
  throw lastError;
}

function exitedError(proc: Tracked, file: string): Error | null {
  if (proc.child.exitCode === null && proc.child.signalCode === null) return null;
  return new Error(`${proc.name} exited before it was ready:\n${readFileSync(file, 'utf8').slice(-3000)}\n${proc.tail()}`);
}

/** Polls a log file the process writes (bounded; the process exiting fails at once). */
async function waitForFileLine(file: string, proc: Tracked, match: (line: string) => boolean): Promise<string> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const line = readFileSync(file, 'utf8').split('\n').find(match);
    if (line !== undefined) return line;
    const exited = exitedError(proc, file);
    if (exited) throw exited;
    if (Date.now() > deadline) throw new Error(`${proc.name}: not started within ${START_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function waitServing(admin: string, proc: Tracked, file: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    try {
      const view = (await (await fetch(`${admin}/generation`)).json()) as { serving: unknown; listeners: unknown[] };
      if (view.serving !== null && view.listeners.length > 0) return;
    } catch {
      // Admin not answering yet.
    }
    const exited = exitedError(proc, file);
    if (exited) throw exited;
    if (Date.now() > deadline) throw new Error(`${proc.name}: nothing served within ${START_TIMEOUT_MS} ms\n${proc.tail()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Caddy (`caddy run --config <json>`), HOME and XDG dirs inside the run directory. */
export async function startCaddy(
  reg: ProcessRegistry,
  caddy: string,
  dir: string,
  name: string,
  certs: Certs,
  upstream: string,
  origins: NodeOrigins,
  cpu: string | null,
  more: { readonly label?: string; readonly h1OverTls?: boolean; readonly schedBatch?: boolean } = {},
): Promise<Target> {
  let lastError: unknown = null;
  // The port is chosen before Caddy binds it: another process may take it in between, so retry.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const configFile = join(dir, `${name}.json`);
    const home = join(dir, `${name}-home`);
    writeFileSync(configFile, caddyJson({ ...certs, upstream, port, storageDir: join(home, 'data'), h1OverTls: more.h1OverTls === true }));
    const env = { HOME: home, XDG_DATA_HOME: join(home, 'data'), XDG_CONFIG_HOME: join(home, 'config') };
    // schedBatch: under SCHED_BATCH like the data plane's own default (runtime/sched-tuning.ts), for a like-for-like row.
    const [cmd, args] = more.schedBatch === true ? ['chrt', ['--batch', '0', caddy, 'run', '--config', configFile]] : [caddy, ['run', '--config', configFile]];
    const proc = reg.spawn(name, cmd, args, { cpu, stdout: 'ignore', env });
    try {
      await proc.waitForLine((l) => l.includes('serving initial configuration'), START_TIMEOUT_MS);
      const h2 = upstream.startsWith('https:');
      return { key: name, label: more.label ?? `Caddy → ${h2 ? 'H2' : 'H1'}`, kind: 'caddy', port, authority: `localhost:${port}`, rootPid: proc.pid, originPid: origins.pid };
    } catch (err) {
      lastError = err;
      proc.child.kill('SIGKILL');
      await proc.exited;
    }
  }
  throw lastError;
}
