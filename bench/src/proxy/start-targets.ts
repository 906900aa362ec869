/**
 * Brings up everything a run measures: the Node origins (load core), then each selected target
 * (SUT core). The A/A target is the direct origin measured a second time under its own key.
 * Caddy is skipped (with the reason) when its executable is missing.
 */
import { execFileSync } from 'node:child_process';
import { basename, join } from 'node:path';
import type { ProcessRegistry } from './process-registry.ts';
import { type Certs, type NodeOrigins, startCaddy, startDirect, startNodeOrigins, startSpooky, type Target } from './targets.ts';

export interface StartedTargets {
  readonly origins: NodeOrigins;
  readonly targets: Target[];
  /** Spooky access-log files (truncated between cells so the disk does not fill). */
  readonly logFiles: string[];
  readonly caddyVersion: string | null;
  readonly skipped: string[];
}

export function caddyVersion(caddy: string): string | null {
  try {
    return execFileSync(caddy, ['version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

export async function startTargets(
  reg: ProcessRegistry,
  dir: string,
  certs: Certs,
  selected: readonly string[],
  cpus: { readonly sut: string | null; readonly load: string | null },
  caddy: string,
  baseline: string | null = null,
  bNodeOptions: string | null = null,
): Promise<StartedTargets> {
  const origins = await startNodeOrigins(reg, certs, cpus.load);
  const h1 = `http://127.0.0.1:${origins.h1}`;
  const h2 = `https://127.0.0.1:${origins.h2}`;
  const h1tls = `https://127.0.0.1:${origins.h1tls}`;
  const targets: Target[] = [];
  const logFiles: string[] = [];
  const skipped: string[] = [];
  const version = selected.some((s) => s.startsWith('caddy')) ? caddyVersion(caddy) : null;
  for (const key of selected) {
    if (key === 'direct') {
      targets.push({ key, label: 'direct HTTP/3 origin', ...(await startDirect(reg, certs, cpus.sut)) });
    } else if (key === 'direct-aa') {
      const direct = targets.find((t) => t.key === 'direct');
      if (!direct) throw new Error('direct-aa needs direct');
      targets.push({ ...direct, key, label: 'direct (A/A: measured again)' });
    } else if (key === 'spooky-h1' || key === 'spooky-h2') {
      const t = await startSpooky(reg, dir, key, certs, key.endsWith('h1') ? h1 : h2, origins, cpus.sut);
      logFiles.push(t.logFile);
      targets.push(t);
    } else if (key === 'spooky-h1tls') {
      // An `https://` backend (allowH2, as for H2) whose origin's ALPN offers only http/1.1.
      const t = await startSpooky(reg, dir, key, certs, h1tls, origins, cpus.sut, { label: 'Spooky → H1 over TLS' });
      logFiles.push(t.logFile);
      targets.push(t);
    } else if (key === 'spooky-h1-v8gc') {
      // The A/B of gc-tuning.ts's heap growing factor: V8's own choice instead.
      const t = await startSpooky(reg, dir, key, certs, h1, origins, cpus.sut, { label: "Spooky → H1, V8's own heap growing factor", env: { SPOOKY_GC_HEAP_GROWING_PERCENT: '0' } });
      logFiles.push(t.logFile);
      targets.push(t);
    } else if (key === 'spooky-h1-baseline') {
      // The same target from another checkout: the A/B of a change against the code it replaces.
      if (baseline === null) throw new Error('spooky-h1-baseline needs --baseline');
      const main = join(baseline, 'dataplane', 'src', 'main.ts');
      const t = await startSpooky(reg, dir, key, certs, h1, origins, cpus.sut, { label: `Spooky → H1, baseline (${baselineName(baseline)})`, main });
      logFiles.push(t.logFile);
      targets.push(t);
    } else if (key === 'spooky-h1-nobatch') {
      // The A/B of runtime/sched-tuning.ts: the default scheduling policy instead of SCHED_BATCH.
      const t = await startSpooky(reg, dir, key, certs, h1, origins, cpus.sut, { label: 'Spooky → H1, default scheduling policy (SPOOKY_SCHED_BATCH=0)', env: { SPOOKY_SCHED_BATCH: '0' } });
      logFiles.push(t.logFile);
      targets.push(t);
    } else if (key === 'spooky-h1-b') {
      if (bNodeOptions === null) throw new Error('spooky-h1-b needs --b-node-options');
      const t = await startSpooky(reg, dir, key, certs, h1, origins, cpus.sut, { label: `Spooky → H1, NODE_OPTIONS=${bNodeOptions}`, env: { NODE_OPTIONS: bNodeOptions } });
      logFiles.push(t.logFile);
      targets.push(t);
    } else if (key === 'spooky-h1-bare' || key === 'spooky-h1-full') {
      const full = key.endsWith('full');
      const label = full ? 'Spooky → H1, every resilience feature configured (not triggering)' : 'Spooky → H1, resilience features off';
      const t = await startSpooky(reg, dir, key, certs, h1, origins, cpus.sut, { label, resilience: full ? 'full' : 'bare' });
      logFiles.push(t.logFile);
      targets.push(t);
    } else if (key === 'caddy-h1' || key === 'caddy-h2' || key === 'caddy-h1tls' || key === 'caddy-h2-batch') {
      if (version === null) {
        skipped.push(`${key}: no \`${caddy}\` executable (Debian: apt-get install -y caddy)`);
        continue;
      }
      const more = key === 'caddy-h1tls' ? { label: 'Caddy → H1 over TLS', h1OverTls: true } : key === 'caddy-h2-batch' ? { label: 'Caddy → H2 under SCHED_BATCH', schedBatch: true } : {};
      targets.push(await startCaddy(reg, caddy, dir, key, certs, key === 'caddy-h1tls' ? h1tls : key.endsWith('h1') ? h1 : h2, origins, cpus.sut, more));
    }
  }
  return { origins, targets, logFiles, caddyVersion: version, skipped };
}

/** The baseline checkout's commit (short hash) when it is a git tree, else its directory name. */
function baselineName(dir: string): string {
  try {
    return execFileSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return basename(dir);
  }
}
