/**
 * A fleet of real data planes on one host, all serving ONE config (same listener address and
 * port), each in its own network namespace so each has its own 127.0.0.1 and nothing but
 * loopback is ever bound. Namespaces are joined through unix sockets in the fleet's directory:
 *
 *   test process                        node namespace (netns-node.ts wrapper)
 *   <dir>/up-<P>.sock → 127.0.0.1:P     127.0.0.1:P → <dir>/up-<P>.sock   (P: control-plane gRPC, origins)
 *   <dir>/<id>/listener.sock  ────────→ 127.0.0.1:<listener port>  (source address rotates per connection)
 *   <dir>/<id>/admin.sock     ────────→ 127.0.0.1:<admin port>
 *
 * so the data plane's `--control-plane 127.0.0.1:<grpc port>` and the config's
 * `http://127.0.0.1:<origin port>` backends work unchanged, and a restarted control plane on the
 * same port is reached again. Client connections into a node come from 127.0.0.2…251 in turn
 * (a new address per connection), so the in-node canary's split by client address sees many
 * clients. Nodes start one after another (two shared cores) with `--workers 1`.
 *
 * `stop()` ends only what it started, by pid: each wrapper (SIGTERM, forwarded to its data
 * plane), then any data-plane primary or worker still alive (SIGKILL), then the host bridges.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataPlane, type GenerationView } from './data-plane.ts';
import { freePort } from './free-port.ts';
import type { NetnsNodeSpec } from './netns-node.ts';
import { type Bridge, unixToTcp } from './unix-bridge.ts';
import type { SpawnedProcess } from './spawned-process.ts';
import { httpGetOverUnix, type SimpleResponse, UnixHttpsClient } from './unix-https-client.ts';

export const NETNS_NODE_MAIN = join(import.meta.dirname, 'netns-node.ts');

let probed: boolean | undefined;

/** Whether `unshare -n` (plus `ip link set lo up` inside) is allowed here; probed once. */
export function netnsAvailable(): boolean {
  if (probed === undefined) {
    const r = spawnSync('unshare', ['-n', 'ip', 'link', 'set', 'lo', 'up'], { timeout: 10_000, stdio: 'ignore' });
    probed = r.status === 0;
  }
  return probed;
}

/** Why fleet suites skip where namespaces are not allowed. */
export const NETNS_SKIP = 'network namespaces (unshare -n as root, with ip) are not allowed here: the fleet suites need one per data plane';

export interface FleetNodeSpec {
  readonly id: string;
  /** `--label k=v` flags of the data plane. */
  readonly labels?: Readonly<Record<string, string>>;
}

export interface FleetOptions {
  /** `host:port` of the control plane's gRPC server (port on 127.0.0.1 of this host). */
  readonly controlPlaneGrpc: string;
  readonly scope: string;
  readonly nodes: readonly FleetNodeSpec[];
  /** Each node's disk cache is `<cacheRoot>/<id>`. */
  readonly cacheRoot: string;
  /** The listener port of the scope's config (the same in every namespace). */
  readonly listenerPort: number;
  /** Host ports the data planes must reach (origins), besides the control plane's. */
  readonly hostPorts?: readonly number[];
  /** PEM file of the CA that signed the listener certificate (clients verify against it). */
  readonly caFile: string;
  /** SNI and checked name; default `localhost`. */
  readonly servername?: string;
  /** Extra data-plane flags for every node, e.g. `['--log-level', 'debug']`. */
  readonly extra?: readonly string[];
}

export class FleetNode {
  readonly id: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly dp: DataPlane;
  readonly dir: string;
  readonly #ca: string;
  readonly #servername: string;

  constructor(id: string, labels: Readonly<Record<string, string>>, dp: DataPlane, dir: string, ca: string, servername: string) {
    this.id = id;
    this.labels = labels;
    this.dp = dp;
    this.dir = dir;
    this.#ca = ca;
    this.#servername = servername;
  }

  /** PID of the namespace wrapper: SIGSTOP it to wedge the node's control and client traffic. */
  get wrapperPid(): number {
    return this.dp.proc.child.pid ?? -1;
  }

  /** PID of the data plane's primary (holds the control-plane session). */
  get pid(): number {
    return this.dp.pid;
  }

  get listenerSocket(): string {
    return join(this.dir, 'listener.sock');
  }

  /** A client of this node's HTTPS listener; a new connection (client address) every `perConnection` requests. */
  client(perConnection = 1): UnixHttpsClient {
    return new UnixHttpsClient({ socketPath: this.listenerSocket, ca: this.#ca, servername: this.#servername }, perConnection);
  }

  /** One HTTPS GET through the node's listener on a fresh connection; status 0 on a transport failure. */
  async request(path: string, timeoutMs = 10_000): Promise<SimpleResponse> {
    const c = this.client();
    try {
      return await c.get(path, timeoutMs);
    } finally {
      await c.close();
    }
  }

  /** GET on the node's admin server (e.g. `/generation`, `/metrics`). */
  admin(path: string, timeoutMs = 5_000): Promise<SimpleResponse> {
    return httpGetOverUnix(join(this.dir, 'admin.sock'), path, timeoutMs);
  }

  /** The admin `/generation` answer (what this node serves). */
  async generation(): Promise<GenerationView> {
    const res = await this.admin('/generation');
    if (res.status !== 200) throw new Error(`${this.id} /generation: ${res.status} ${res.body}`);
    return JSON.parse(res.body) as GenerationView;
  }

  /** Wedges the node (SIGSTOP of its wrapper: no control traffic, no client traffic); `unwedge` undoes it. */
  wedge(): void {
    process.kill(this.wrapperPid, 'SIGSTOP');
  }

  unwedge(): void {
    signal(this.wrapperPid, 'SIGCONT');
  }

  /** Ends this node: SIGCONT (if wedged), SIGTERM through the wrapper, then SIGKILL of any leftover pid. */
  async stop(): Promise<void> {
    this.unwedge();
    signal(this.dp.pid, 'SIGCONT');
    try {
      await this.dp.proc.stop();
    } finally {
      signal(this.dp.pid, 'SIGKILL');
      signal(this.dp.workerPid, 'SIGKILL');
    }
  }
}

export interface Fleet {
  readonly dir: string;
  readonly nodes: readonly FleetNode[];
  node(id: string): FleetNode;
  stop(): Promise<void>;
}

/** Sends `sig` to `pid` if it is still there (a process that exited is not an error here). */
function signal(pid: number, sig: NodeJS.Signals): void {
  if (pid <= 0) return;
  try {
    process.kill(pid, sig);
  } catch {
    // gone already
  }
}

/**
 * Ends a node whose start failed: SIGCONT + SIGTERM through its wrapper (forwarded to the data
 * plane), then SIGKILL of every data-plane pid it logged (primary, workers) that is still there.
 */
async function endStarting(proc: SpawnedProcess): Promise<void> {
  await proc.stop(5_000).catch(() => undefined);
  const pids = proc.lines.filter((l) => l.msg === 'data plane started' || l.msg === 'worker ready').map((l) => Number(l['pid']));
  for (const pid of pids) if (Number.isInteger(pid)) signal(pid, 'SIGKILL');
}

function portOf(hostPort: string): number {
  const port = Number(hostPort.slice(hostPort.lastIndexOf(':') + 1));
  if (!Number.isInteger(port) || port <= 0) throw new Error(`not host:port: ${hostPort}`);
  return port;
}

/** Starts the host bridges, then every node in turn; resolves when each one's worker is ready. */
export async function startFleet(opts: FleetOptions): Promise<Fleet> {
  if (!netnsAvailable()) throw new Error(NETNS_SKIP);
  const dir = mkdtempSync(join(tmpdir(), 'spk-fleet-'));
  const ca = readFileSync(opts.caFile, 'utf8');
  const grpcPort = portOf(opts.controlPlaneGrpc);
  const hostPorts = [grpcPort, ...(opts.hostPorts ?? [])];
  const bridges: Bridge[] = [];
  const nodes: FleetNode[] = [];
  /** The node being started: ended by `stop` when its start fails (it is not in `nodes` yet). */
  let starting: SpawnedProcess | undefined;
  const stop = async () => {
    const errors: unknown[] = [];
    for (const n of nodes) await n.stop().catch((e: unknown) => errors.push(e));
    if (starting) await endStarting(starting);
    await Promise.all(bridges.map((b) => b.close()));
    rmSync(dir, { recursive: true, force: true });
    if (errors.length > 0) throw errors[0];
  };
  try {
    for (const port of hostPorts) bridges.push(await unixToTcp(join(dir, `up-${port}.sock`), '127.0.0.1', port));
    const adminPort = await freePort();
    for (const spec of opts.nodes) {
      const nodeDir = join(dir, spec.id);
      mkdirSync(nodeDir);
      const netns: NetnsNodeSpec = {
        outbound: hostPorts.map((port) => ({ port, socket: join(dir, `up-${port}.sock`) })),
        inbound: [
          { socket: join(nodeDir, 'listener.sock'), port: opts.listenerPort, rotateSources: true },
          { socket: join(nodeDir, 'admin.sock'), port: adminPort },
        ],
      };
      const labels = spec.labels ?? {};
      const dp = await DataPlane.start({
        controlPlane: `127.0.0.1:${grpcPort}`,
        nodeId: spec.id,
        scope: opts.scope,
        cacheDir: join(opts.cacheRoot, spec.id),
        admin: `127.0.0.1:${adminPort}`,
        extra: [...Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]), ...(opts.extra ?? [])],
        launcher: ['unshare', '-n', process.execPath, NETNS_NODE_MAIN, JSON.stringify(netns)],
        onSpawn: (proc) => {
          starting = proc;
        },
      });
      starting = undefined;
      nodes.push(new FleetNode(spec.id, labels, dp, nodeDir, ca, opts.servername ?? 'localhost'));
    }
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
  return {
    dir,
    nodes,
    node: (id) => {
      const n = nodes.find((x) => x.id === id);
      if (!n) throw new Error(`no fleet node ${id}`);
      return n;
    },
    stop,
  };
}
