/**
 * Config propagation benchmark (plain node script, run from the repository root):
 *
 *   node bench/src/propagation.bench.ts [--sessions 100] [--activations 50] [--large-activations 20]
 *     [--report-ms 1000] [--warmup 3] [--identity] [--full-verify] [--dataplane] [--dp-workers 1]
 *     [--cpu-prof DIR] [--fill padded|hex|both] [--window BYTES]
 *
 * One real control-plane process (controlplane/src/main.ts, SQLite in a temp dir) and
 * `--sessions` ConfigSync sessions from a fake fleet in this process (propagation-fleet.ts:
 * real gRPC, one HTTP/2 connection per session, sha256 check of every payload, Reports every
 * `--report-ms`). Two generations per workload are created first (not timed), then activated
 * alternately with PUT /v1/scopes/{scope}/active. Per activation:
 *   - "after PUT": from the PUT response having been read to the last session's Ack;
 *   - "PUT+push": from sending the PUT to the last Ack (the control plane starts pushing
 *     before it answers the PUT, so this is the whole story);
 *   - control-plane CPU ms (utime + stime of its process from /proc) per activation, and the
 *     fake fleet's (this process: gRPC client, decode, sha256) — on a 2-core machine the two
 *     compete, so wall times include the fleet's share.
 * Workloads: a small config (20 upstreams, ~3 KB) and the largest valid one (the canonical
 * document is capped at 4 MiB, so "5 MB" is measured as ~4 MiB: 1 000 upstreams with long
 * path prefixes), twice: padded with one repeated letter (compresses ~700×, the best case for a
 * zstd push) and with random hex (compresses ~2×: the worst case a text config gets near).
 * `--identity`: the fake sessions list no push encoding (an older data plane's Hello), so they
 * get the canonical bytes. `--full-verify`: every fake session decodes and hashes (see
 * PayloadCheck in propagation-fleet.ts; by default one does, the others compare bytes).
 * `--dataplane`: one of the `--sessions` is a real data plane
 * (dataplane/src/main.ts with `--dp-workers` workers: decode, digest, JSON.parse, parseConfig,
 * compile, listeners, hand-off to the workers, disk cache), and the activation is complete
 * when it has acked too (its "control: generation applied (ack)" log line, same clock).
 * Percentiles are nearest-rank over the activations (p99 of 50 = the slowest).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { canonicalJson, parseConfig } from '@spooky/config';
import { CONFIG_SYNC_FLOW_CONTROL_WINDOW } from '@spooky/proto';
import { type CertFiles, ensureSelfSignedCert } from '../../test/src/harness/certs.ts';
import { DataPlane } from '../../test/src/harness/data-plane.ts';
import { freePort } from '../../test/src/harness/free-port.ts';
import { ControlPlane } from '../../test/src/harness/planes.ts';
import { FakeFleet } from './propagation-fleet.ts';

const SCOPE = 'bench';
/** Size aimed at for the large canonical document (the cap is 4 MiB = 4 194 304 bytes). */
const LARGE_TARGET_BYTES = 4_190_000;
const ACK_TIMEOUT_MS = 60_000;

function arg(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}

const SESSIONS = arg('sessions', 100);
const ACTIVATIONS = arg('activations', 50);
const LARGE_ACTIVATIONS = arg('large-activations', 20);
const REPORT_MS = arg('report-ms', 1000);
const WARMUP = arg('warmup', 3);
const IDENTITY = process.argv.includes('--identity');
const FULL_VERIFY = process.argv.includes('--full-verify');
/** HTTP/2 window of the fake sessions (0 = HTTP/2's 64 KiB default, as before CONFIG_SYNC_FLOW_CONTROL_WINDOW). */
const WINDOW = arg('window', CONFIG_SYNC_FLOW_CONTROL_WINDOW);
/** `--cpu-prof DIR`: the control plane and the data plane (not this process) write V8 CPU profiles there. */
const CPU_PROF_AT = process.argv.indexOf('--cpu-prof');
if (CPU_PROF_AT > 0) {
  const dir = process.argv[CPU_PROF_AT + 1];
  process.env['NODE_OPTIONS'] = `${process.env['NODE_OPTIONS'] ?? ''} --cpu-prof --cpu-prof-dir=${dir}`.trim();
}
const REAL_DATA_PLANE = process.argv.includes('--dataplane');
const DP_WORKERS = arg('dp-workers', 1);
/** `--fill padded|hex|both`: which large workloads run (default both). */
const FILL = process.argv.includes('--fill') ? process.argv[process.argv.indexOf('--fill') + 1] : 'both';

type Filler = (i: number, length: number) => string;
const padded: Filler = (_i, length) => 'p'.repeat(length);
const hex: Filler = (_i, length) => randomBytes(Math.ceil(length / 2)).toString('hex').slice(0, length);

type Config = Record<string, unknown>;

/** The listener every generation has; real files and a free port when a real data plane runs. */
let listener = { port: 9443, cert: 'certs/cert.pem', key: 'certs/key.pem' };

function baseConfig(upstream: Record<string, unknown>): Config {
  return {
    version: 1,
    listen: { protocol: 'http3', address: '127.0.0.1', port: listener.port, tls: { cert: listener.cert, key: listener.key } },
    upstream,
  };
}

function upstreams(count: number, variant: string, filler: number, fill: Filler = padded): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) {
    out[`svc${i}`] = {
      route: { path_prefix: `/svc${i}/${variant}${fill(i, filler)}` },
      backends: [{ id: 'b1', address: `http://127.0.0.1:${8000 + (i % 1000)}` }],
    };
  }
  return out;
}

function smallConfig(variant: string): Config {
  return baseConfig(upstreams(20, variant, 0));
}

/** Bytes of the canonical document the control plane stores (defaults filled in). */
function canonicalBytes(config: Config): number {
  const parsed = parseConfig(config);
  if (!parsed.ok) throw new Error(`bench config invalid: ${JSON.stringify(parsed.issues.slice(0, 3))}`);
  return Buffer.byteLength(canonicalJson(parsed.config));
}

/** 1 000 upstreams whose path prefixes are padded so the canonical document lands just under the cap. */
function largeConfig(variant: string, fill: Filler): Config {
  const count = 1000;
  const bare = canonicalBytes(baseConfig(upstreams(count, variant, 0)));
  const filler = Math.floor((LARGE_TARGET_BYTES - bare) / count);
  return baseConfig(upstreams(count, variant, filler, fill));
}

/** CPU ms (user + system) the process has used so far, from /proc (clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function percentile(sorted: readonly number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1] ?? Number.NaN;
}

interface Round {
  readonly putMs: number;
  readonly afterPutMs: number;
  readonly totalMs: number;
}

async function createGeneration(cp: ControlPlane, config: Config): Promise<{ seq: number; digest: string; sizeBytes: number }> {
  const res = await cp.api<{ seq: number; digest: string; sizeBytes: number }>('POST', `/v1/scopes/${SCOPE}/generations`, {
    body: config,
    reason: 'propagation bench',
  });
  if (res.status !== 201 && res.status !== 200) throw new Error(`create generation: ${res.status} ${JSON.stringify(res.body).slice(0, 500)}`);
  return res.body;
}

async function activate(cp: ControlPlane, seq: number): Promise<void> {
  const active = await cp.api<{ version?: number }>('GET', `/v1/scopes/${SCOPE}/active`);
  const version = active.body.version ?? 0;
  const put = await cp.api('PUT', `/v1/scopes/${SCOPE}/active`, {
    reason: 'propagation bench',
    body: { seq },
    headers: { 'if-match': `"${version}"` },
  });
  if (put.status !== 200) throw new Error(`activate: ${put.status} ${JSON.stringify(put.body)}`);
}

/** CPU ms used so far by every process of the real data plane (the pids its log lines carry), 0 without one. */
function dataPlaneCpuMs(dp: DataPlane | null): number {
  if (dp === null) return 0;
  const pids = new Set(dp.proc.lines.map((l) => Number(l['pid'])).filter((pid) => Number.isInteger(pid) && pid > 0));
  let total = 0;
  for (const pid of pids) {
    try {
      total += cpuMs(pid);
    } catch {
      // A worker that exited: its CPU is no longer readable (none exit in this bench).
    }
  }
  return total;
}

/** performance.now() of the real data plane's Ack of `digest` (its log line's ISO `time`, ms precision), or null without one. */
async function dataPlaneAck(dp: DataPlane | null, digest: string, from: number): Promise<number | null> {
  if (dp === null) return null;
  const line = await dp.proc.waitForLog((l) => l.msg === 'control: generation applied (ack)' && l['digest'] === digest, ACK_TIMEOUT_MS, from);
  return Date.parse(String(line['time'])) - performance.timeOrigin;
}

async function runWorkload(cp: ControlPlane, fleet: FakeFleet, dp: DataPlane | null, label: string, configs: [Config, Config], rounds: number) {
  const gens = [await createGeneration(cp, configs[0]), await createGeneration(cp, configs[1])];
  const results: Round[] = [];
  const pid = cp.proc.child.pid ?? 0;
  let cpu = 0;
  let fleetCpu = 0;
  const dpAckMs: number[] = [];
  /** CPU ms of the real data plane's processes (primary + workers) per activation. */
  const dpCpu: number[] = [];
  for (let i = 0; i < WARMUP + rounds; i++) {
    const gen = gens[i % 2];
    if (gen === undefined) throw new Error('unreachable');
    const cpuBefore = cpuMs(pid);
    const fleetBefore = process.cpuUsage();
    const dpFrom = dp?.proc.lines.length ?? 0;
    const dpCpuBefore = dataPlaneCpuMs(dp);
    const t0 = performance.now();
    await activate(cp, gen.seq);
    const t1 = performance.now();
    const [fleetLast, dpAck] = await Promise.all([fleet.allAcked(gen.digest, ACK_TIMEOUT_MS), dataPlaneAck(dp, gen.digest, dpFrom)]);
    const last = Math.max(fleetLast, dpAck ?? fleetLast);
    if (dpAck !== null) {
      dpAckMs.push(dpAck - t1);
      dpCpu.push(dataPlaneCpuMs(dp) - dpCpuBefore);
    }
    // The GET of the version is part of t0..t1 but not of the PUT; it is small next to a push.
    process.stderr.write(`${label} #${i}: ${(last - t0).toFixed(1)} ms\n`);
    if (i >= WARMUP) {
      results.push({ putMs: t1 - t0, afterPutMs: last - t1, totalMs: last - t0 });
      cpu += cpuMs(pid) - cpuBefore;
      const used = process.cpuUsage(fleetBefore);
      fleetCpu += (used.user + used.system) / 1000;
    }
  }
  const col = (pick: (r: Round) => number) => results.map(pick).sort((a, b) => a - b);
  const after = col((r) => r.afterPutMs);
  const total = col((r) => r.totalMs);
  const put = col((r) => r.putMs);
  const f = (n: number) => n.toFixed(1);
  const size = gens[0]?.sizeBytes ?? 0;
  if (dpAckMs.length > 0) {
    const sorted = dpAckMs.slice(WARMUP).sort((a, b) => a - b);
    const cpu = dpCpu.slice(WARMUP);
    const mean = cpu.reduce((a, c) => a + c, 0) / Math.max(1, cpu.length);
    process.stderr.write(
      `${label}: real data plane ack after PUT p50 ${f(percentile(sorted, 50))} ms, max ${f(sorted.at(-1) ?? Number.NaN)} ms; its CPU (primary + workers) ${f(mean)} ms / activation\n`,
    );
  }
  return `| ${label} | ${size.toLocaleString('en')} | ${SESSIONS} | ${rounds} | ${f(percentile(put, 50))} | ${f(percentile(after, 50))} | ${f(percentile(after, 99))} | ${f(percentile(total, 50))} | ${f(percentile(total, 99))} | ${f(cpu / rounds)} | ${f(fleetCpu / rounds)} |`;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'spooky-propagation-'));
  const cp = await ControlPlane.start(join(dir, 'cp'), { reportIntervalMs: REPORT_MS });
  let fleet: FakeFleet | null = null;
  let dp: DataPlane | null = null;
  try {
    if (REAL_DATA_PLANE) {
      const cert: CertFiles = ensureSelfSignedCert(join(dir, 'certs'));
      listener = { port: await freePort(), cert: cert.cert, key: cert.key };
      dp = await DataPlane.start({
        controlPlane: cp.grpc,
        nodeId: 'bench-real-dp',
        scope: SCOPE,
        cacheDir: join(dir, 'dp-cache'),
        extra: ['--workers', String(DP_WORKERS)],
      });
    }
    fleet = await FakeFleet.connect(cp.grpc, SCOPE, SESSIONS - (dp === null ? 0 : 1), 30_000, { identity: IDENTITY, fullVerify: FULL_VERIFY, window: WINDOW });
    const rows: string[] = [];
    if (ACTIVATIONS > 0) rows.push(await runWorkload(cp, fleet, dp, 'small', [smallConfig('a'), smallConfig('b')], ACTIVATIONS));
    if (LARGE_ACTIVATIONS > 0) {
      if (FILL !== 'hex') rows.push(await runWorkload(cp, fleet, dp, 'largest valid (~4 MiB), padded', [largeConfig('a', padded), largeConfig('b', padded)], LARGE_ACTIVATIONS));
      if (FILL !== 'padded') rows.push(await runWorkload(cp, fleet, dp, 'largest valid (~4 MiB), random hex', [largeConfig('a', hex), largeConfig('b', hex)], LARGE_ACTIVATIONS));
    }
    const who = dp === null ? 'fake' : `fake + 1 real data plane (--workers ${DP_WORKERS})`;
    console.log(`node ${process.version}, ${SESSIONS} sessions (${who}), push encoding ${IDENTITY ? 'identity' : 'zstd'}, ${FULL_VERIFY ? 'every session decodes + hashes' : 'one session per payload decodes + hashes, the others compare bytes'}, reports every ${REPORT_MS} ms, ${WARMUP} warm-up activations per workload`);
    console.log('| workload | canonical bytes | sessions | activations | PUT ms p50 | after PUT p50 | after PUT p99 | PUT+push p50 | PUT+push p99 | CP CPU ms / activation | fleet CPU ms / activation |');
    console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const row of rows) console.log(row);
  } catch (err) {
    const counts = new Map<string, number>();
    for (const l of cp.proc.lines) counts.set(String(l.msg), (counts.get(String(l.msg)) ?? 0) + 1);
    console.error('control-plane log lines by message:', Object.fromEntries(counts));
    console.error(cp.proc.lines.filter((l) => Number(l['level']) >= 40).slice(-10));
    throw err;
  } finally {
    fleet?.close();
    if (dp !== null && process.argv.includes('--dp-log-summary')) {
      const bytes = new Map<string, [number, number]>();
      for (const l of dp.proc.lines) {
        const seen = bytes.get(String(l.msg)) ?? [0, 0];
        bytes.set(String(l.msg), [seen[0] + 1, seen[1] + JSON.stringify(l).length]);
      }
      console.error('data-plane log lines (count, bytes) by message:', Object.fromEntries(bytes));
    }
    await dp?.proc.stop();
    await cp.proc.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
