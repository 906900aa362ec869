/**
 * Runs deploy/docker/docker-compose.yml with podman, for the opt-in container test of
 * deploy-containers.test.ts: the images are built from the Dockerfile targets the services name, then
 * each service is started as written (environment, entrypoint, command, named volumes, bind mounts,
 * compose-level health checks) on a private bridge network where the service name is its DNS name,
 * in depends_on order with the conditions honoured (service_completed_successfully: exit 0;
 * service_healthy: `podman healthcheck run` passes, bounded). Host ports are not published: checks
 * run from containers on the same network. Everything it creates carries the project prefix, and
 * down() removes exactly that.
 * Machine-specific podman options come from the environment, split at whitespace:
 *   SPOOKY_PODMAN_OPTS        global options, e.g. `--runtime runc --cgroup-manager cgroupfs`
 *   SPOOKY_PODMAN_BUILD_OPTS  build options, e.g. `--isolation=chroot --network=host`
 *   SPOOKY_PODMAN_RUN_OPTS    run options, e.g. `--ulimit nproc=4000:4000 --ulimit nofile=4096:4096`
 */
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';

interface Service {
  readonly build: { readonly context: string; readonly dockerfile: string; readonly target: string };
  readonly depends_on?: Record<string, { readonly condition: string }>;
  readonly environment?: Record<string, string>;
  readonly volumes?: readonly string[];
  readonly entrypoint?: readonly string[];
  readonly command?: readonly string[];
  readonly healthcheck?: { readonly test: readonly string[]; readonly interval: string };
}

const opts = (name: string): string[] => (process.env[name] ?? '').split(/\s+/).filter((w) => w !== '');

export class PodmanCompose {
  readonly project: string;
  readonly services: Record<string, Service>;
  readonly #file: string;
  readonly #started: string[] = [];
  readonly #images = new Map<string, string>();

  constructor(file: string, project: string) {
    this.#file = file;
    this.project = project;
    // Compose turns `$$` into a literal `$` (no variable in this file is interpolated).
    this.services = (parse(readFileSync(file, 'utf8').replaceAll('$$', '$')) as { services: Record<string, Service> }).services;
  }

  /** `podman <global opts> ...args`, output captured. */
  podman(args: readonly string[], timeoutMs = 120_000): SpawnSyncReturns<string> {
    return spawnSync('podman', [...opts('SPOOKY_PODMAN_OPTS'), ...args], { encoding: 'utf8', timeout: timeoutMs });
  }

  container(service: string): string {
    return `${this.project}-${service}`;
  }

  get network(): string {
    return `${this.project}-net`;
  }

  /** Builds every target the services use (tagged `spooky-e2e-<target>`, kept for the layer cache); throws with the log tail. */
  build(): void {
    for (const s of Object.values(this.services)) {
      if (this.#images.has(s.build.target)) continue;
      const tag = `spooky-e2e-${s.build.target}`; // shared across runs: the layer cache stays useful
      const context = resolve(dirname(this.#file), s.build.context);
      const ignore = resolve(context, `${s.build.dockerfile}.dockerignore`);
      const r = this.podman(['build', '--format', 'docker', '--pull=never', ...opts('SPOOKY_PODMAN_BUILD_OPTS'), '--ignorefile', ignore,
        '-f', resolve(context, s.build.dockerfile), '--target', s.build.target, '-t', tag, context], 600_000);
      if (r.status !== 0) throw new Error(`build ${s.build.target}: ${(r.stdout + r.stderr).slice(-2000)}`);
      this.#images.set(s.build.target, tag);
    }
  }

  /** Starts every service (and what it depends on first). */
  up(): void {
    const net = this.podman(['network', 'create', this.network]);
    if (net.status !== 0) throw new Error(`network: ${net.stderr}`);
    for (const name of Object.keys(this.services)) this.#up(name);
  }

  #up(name: string): void {
    if (this.#started.includes(name)) return;
    const s = this.services[name];
    if (!s) throw new Error(`no service ${name}`);
    for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
      this.#up(dep);
      if (condition === 'service_completed_successfully') {
        const code = this.podman(['wait', this.container(dep)]).stdout.trim();
        if (code !== '0') throw new Error(`${dep} exited ${code}: ${this.logs(dep).slice(-1000)}`);
      }
      if (condition === 'service_healthy') this.waitHealthy(dep);
    }
    const args = ['run', '-d', '--name', this.container(name), '--network', this.network, '--network-alias', name, ...opts('SPOOKY_PODMAN_RUN_OPTS')];
    for (const [k, v] of Object.entries(s.environment ?? {})) args.push('-e', `${k}=${v}`);
    for (const v of s.volumes ?? []) {
      const [source = '', ...rest] = v.split(':');
      args.push('-v', [source.startsWith('.') ? resolve(dirname(this.#file), source) : `${this.project}_${source}`, ...rest].join(':'));
    }
    if (s.healthcheck) args.push('--health-cmd', JSON.stringify(s.healthcheck.test.slice(1)), '--health-interval', s.healthcheck.interval);
    if (s.entrypoint) args.push('--entrypoint', JSON.stringify(s.entrypoint));
    args.push(this.#images.get(s.build.target) ?? '', ...(s.command ?? []));
    const r = this.podman(args);
    if (r.status !== 0) throw new Error(`run ${name}: ${r.stderr}`);
    this.#started.push(name);
  }

  /** Polls `podman healthcheck run` once a second for at most `timeoutMs`. */
  waitHealthy(service: string, timeoutMs = 90_000): void {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.podman(['healthcheck', 'run', this.container(service)], 30_000).status === 0) return;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
    }
    throw new Error(`${service} not healthy within ${timeoutMs} ms: ${this.logs(service).slice(-1500)}`);
  }

  /** A one-off container of `target` on the project network with `volumes` (`<volume>:<path>[:ro]`). */
  runOnce(target: string, volumes: readonly string[], env: Record<string, string>, entrypoint: readonly string[], command: readonly string[]): SpawnSyncReturns<string> {
    const args = ['run', '--rm', '--network', this.network, ...opts('SPOOKY_PODMAN_RUN_OPTS')];
    for (const v of volumes) args.push('-v', `${this.project}_${v}`);
    for (const [k, v] of Object.entries(env)) args.push('-e', `${k}=${v}`);
    args.push('--entrypoint', JSON.stringify(entrypoint), this.#images.get(target) ?? '', ...command);
    return this.podman(args);
  }

  logs(service: string): string {
    const r = this.podman(['logs', this.container(service)]);
    return `${r.stdout}${r.stderr}`;
  }

  /** Removes this project's containers, volumes and network (never anything else). */
  down(): void {
    for (const name of [...this.#started].reverse()) this.podman(['rm', '-f', '-t', '30', this.container(name)]);
    for (const v of (this.podman(['volume', 'ls', '--format', '{{.Name}}']).stdout ?? '').split('\n')) {
      if (v.startsWith(`${this.project}_`)) this.podman(['volume', 'rm', '-f', v]);
    }
    this.podman(['network', 'rm', '-f', this.network]);
  }
}
