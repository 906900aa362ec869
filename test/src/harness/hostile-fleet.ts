/**
 * The fleet every hostile-client suite runs against: a standalone data plane (real process,
 * `--config` file with short client timeouts and a 1 MiB body limit) in front of real
 * origins, and `runCase`, which wraps one hostile case in the four checks of issue 7:
 *  1. the case's own assertion (a clear 4xx or a closed connection) — the case body's job;
 *  2. the data plane is alive afterwards: process not exited, the same serving PID(s) as before
 *     (a supervisor quietly restarting a crashed worker is still a crash), admin `/live` 200,
 *     no "uncaught exception" log line during the case, and no "internal error" line either
 *     (an error the crash barrier contained is still a bug the hostile input reached);
 *  3. a well-behaved client (HTTP/1.1, HTTP/2, HTTP/3) kept getting 200s: 0 failures, and
 *     it made progress after the case;
 *  4. the serving process's peak RSS stayed under the case's bound.
 * It prints `hostile <case>: status=<…> alive=yes wellBehaved=<ok>/<total> rssMaxMB=<n> (bound <m>)`.
 *
 * Routes: `/ok/…` → `wb` origin (the well-behaved client only), `/h2/…` → `targetH2` (an
 * HTTP/2 echo origin), `/sink/…` → an origin that answers only after the whole body (see
 * sink-origin.ts), `/die-h1/…` and `/die-h2/…` → origins that die mid-body, everything else
 * → `target` (an HTTP/1.1 echo origin whose `requests` list the smuggling cases count).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigInputSchema } from '@spooky/config';
import { type CertFiles, ensureSelfSignedCert } from './certs.ts';
import { DataPlane } from './data-plane.ts';
import { startDyingH1Origin, startDyingH2Origin } from './dying-origin.ts';
import { freePort } from './free-port.ts';
import { type Origin, startH1Origin, startH2Origin } from './origins.ts';
import { RssProbe, servingPids } from './process-rss.ts';
import { startSinkOrigin } from './sink-origin.ts';
import { isUncaughtLine } from './spawned-process.ts';
import { type Protocol, WellBehavedClient } from './well-behaved-client.ts';

export const MiB = 1024 * 1024;
/**
 * The peak RSS a serving process may reach during any hostile case: about twice what it uses
 * idle with this suite's config (~150 MiB with the well-behaved client running), so a case may
 * cost at most ~150 MiB however large its input — the 1 MB header, 10 000 reset streams or 200
 * idle connections must not be paid for in proportion.
 */
export const RSS_BOUND_MB = 300;
export const WELL_BEHAVED_PATH = '/ok/well-behaved';

/**
 * The suite's limits, small so that every timeout case finishes in about a second. Keys the
 * config schema of this build does not know yet are left out of the file (and reported by
 * `missingKeys`): the cases that need them then fail on their own assertion, not at startup.
 */
export const SUITE_PERFORMANCE: Readonly<Record<string, number>> = {
  upstream_connect_timeout_ms: 1000,
  upstream_headers_timeout_ms: 5000,
  upstream_body_idle_timeout_ms: 5000,
  request_timeout_ms: 10_000,
  max_request_body_bytes: MiB,
  tls_handshake_timeout_ms: 800,
  client_header_timeout_ms: 1000,
  client_body_idle_timeout_ms: 1000,
};

export interface CaseOptions {
  /** Peak RSS allowed for the serving process during the case, in MiB (default RSS_BOUND_MB). */
  readonly rssBoundMB?: number;
  /** Protocols of the well-behaved client (default all three). */
  readonly protocols?: readonly Protocol[];
  /**
   * Keep the well-behaved client (and the checks) running this long after the attack, for
   * failures that come late (an upstream pool timing out seconds after a flood). Default 0.
   */
  readonly settleMs?: number;
}

export class HostileFleet {
  readonly dir: string;
  readonly cert: CertFiles;
  readonly port: number;
  readonly wb: Origin;
  readonly target: Origin;
  readonly targetH2: Origin;
  readonly sink: Origin;
  readonly dyingH1: Origin;
  readonly dyingH2: Origin;
  readonly missingKeys: readonly string[];
  readonly #configFile: string;
  /** Every data plane started (a restarted one replaces a dead one; all are stopped and checked). */
  readonly #started: DataPlane[] = [];
  dp!: DataPlane;

  private constructor(dir: string, cert: CertFiles, port: number, origins: Origin[], missing: string[]) {
    this.dir = dir;
    this.cert = cert;
    this.port = port;
    [this.wb, this.target, this.targetH2, this.sink, this.dyingH1, this.dyingH2] = origins as [Origin, Origin, Origin, Origin, Origin, Origin];
    this.missingKeys = missing;
    this.#configFile = join(dir, 'config.json');
  }

  static async start(name: string): Promise<HostileFleet> {
    const dir = mkdtempSync(join(tmpdir(), `spooky-hostile-${name}-`));
    const cert = ensureSelfSignedCert(join(dir, 'certs'));
    const origins = [
      await startH1Origin('wb'),
      await startH1Origin('target'),
      await startH2Origin('target-h2', cert),
      await startSinkOrigin('sink'),
      await startDyingH1Origin('dying-h1'),
      await startDyingH2Origin('dying-h2', cert),
    ];
    const known = new Set(Object.keys((ConfigInputSchema.properties.performance as unknown as { properties: Record<string, unknown> }).properties));
    const performance = Object.fromEntries(Object.entries(SUITE_PERFORMANCE).filter(([k]) => known.has(k)));
    const missing = Object.keys(SUITE_PERFORMANCE).filter((k) => !known.has(k));
    const fleet = new HostileFleet(dir, cert, await freePort(), origins, missing);
    writeFileSync(fleet.#configFile, JSON.stringify(fleet.#config(performance), null, 2));
    if (missing.length > 0) console.log(`hostile ${name}: config keys not in this build's schema (left out): ${missing.join(', ')}`);
    await fleet.#startDataPlane();
    return fleet;
  }

  #config(performance: Record<string, number>): unknown {
    const [wb, target, h2, sink, d1, d2] = [this.wb, this.target, this.targetH2, this.sink, this.dyingH1, this.dyingH2];
    return {
      version: 1,
      listen: { address: '127.0.0.1', port: this.port, tls: { cert: this.cert.cert, key: this.cert.key } },
      upstream_tls: { verify_certificates: true, ca_file: this.cert.cert },
      upstream: {
        wb: { route: { path_prefix: '/ok' }, backends: [{ id: 'wb', address: wb.url }] },
        h2: { route: { path_prefix: '/h2' }, backends: [{ id: 'h2', address: h2.url }] },
        sink: { route: { path_prefix: '/sink' }, backends: [{ id: 's', address: sink.url }] },
        'die-h1': { route: { path_prefix: '/die-h1' }, backends: [{ id: 'd1', address: d1.url }] },
        'die-h2': { route: { path_prefix: '/die-h2' }, backends: [{ id: 'd2', address: d2.url }] },
        target: { route: { path_prefix: '/' }, backends: [{ id: 't', address: target.url }] },
      },
      performance,
    };
  }

  async #startDataPlane(): Promise<void> {
    const dp = await DataPlane.start({ config: this.#configFile });
    this.#started.push(dp);
    this.dp = dp;
    await dp.proc.waitForLog((l) => l.msg === 'generation applied', 20_000);
  }

  get alive(): boolean {
    const c = this.dp.proc.child;
    return c.exitCode === null && c.signalCode === null;
  }

  /** Starts a fresh data plane when a previous case killed this one (that case has failed already). */
  async ensureRunning(): Promise<void> {
    if (!this.alive) await this.#startDataPlane();
  }

  /**
   * Runs one hostile case inside the four checks. `body` performs the attack, asserts the
   * answer the hostile client must get, and returns a short status text for the summary line.
   */
  async runCase(name: string, opts: CaseOptions, body: () => Promise<string>): Promise<void> {
    await this.ensureRunning();
    const dp = this.dp;
    const pid = dp.proc.child.pid!;
    const servingBefore = servingPids(pid).join(',');
    const fromLine = dp.proc.lines.length;
    const rss = new RssProbe(pid);
    const wb = new WellBehavedClient({ port: this.port, path: WELL_BEHAVED_PATH, ...(opts.protocols ? { protocols: opts.protocols } : {}) });
    let status = 'not run';
    let failure: unknown = null;
    let progressed = false;
    try {
      const going = await Promise.race([wb.progress(2, 10_000), dp.proc.exited.then(() => false)]);
      assert.ok(going, `the well-behaved client did not get going: ${JSON.stringify(wb.counts())}`);
      status = await body();
      // Progress after the case proves service continued; no point waiting for it from a dead process.
      const settled = new Promise<void>((r) => setTimeout(r, opts.settleMs ?? 0));
      progressed = await Promise.race([wb.progress(3, 10_000), dp.proc.exited.then(() => false)]);
      await Promise.race([settled, dp.proc.exited]);
    } catch (err) {
      failure = err;
      status = `failed(${String((err as Error).message ?? err).split('\n')[0]!.slice(0, 120)})`;
    }
    const counts = await wb.stop();
    const peak = rss.stop();
    const exited = !this.alive;
    const servingAfter = exited ? '' : servingPids(pid).join(',');
    const live = exited ? 0 : await fetch(`${dp.admin}/live`, { signal: AbortSignal.timeout(3000) }).then((r) => r.status, () => 0);
    const uncaught = dp.proc.lines.slice(fromLine).filter(isUncaughtLine);
    // Errors the crash barrier contained: a hostile input must be refused by validation, not
    // reach a bug; each one is an unexpected error, so the case fails on it.
    const internal = dp.proc.lines.slice(fromLine).filter((l) => l.msg === 'internal error');
    const alive = !exited && servingAfter === servingBefore && live === 200 && uncaught.length === 0;
    const aliveText = alive ? 'yes' : `no(exited=${exited} serving ${servingBefore}→${servingAfter || '-'} live=${live} uncaught=${uncaught.length})`;
    const bound = opts.rssBoundMB ?? RSS_BOUND_MB;
    console.log(`hostile ${name}: status=${status} alive=${aliveText} wellBehaved=${counts.ok}/${counts.total} rssMaxMB=${peak.maxMB} (bound ${bound}) maxLatencyMs=${counts.maxLatencyMs} internalErrors=${internal.length}`);
    if (failure !== null) throw failure;
    assert.ok(alive, `${name}: the data plane did not survive: ${aliveText}\n${uncaught.map((l) => JSON.stringify(l)).join('\n')}\n${dp.proc.tail(15)}`);
    assert.deepEqual(internal.map((l) => `${String(l['where'])}: ${JSON.stringify(l['err'])}`), [], `${name}: the crash barrier caught unexpected errors`);
    assert.equal(counts.failed, 0, `${name}: well-behaved requests failed: ${counts.failures.join('; ')}`);
    assert.ok(progressed, `${name}: the well-behaved client stalled after the case: ${JSON.stringify(counts.perProtocol)}`);
    assert.ok(peak.maxMB <= bound, `${name}: serving RSS peaked at ${peak.maxMB} MiB (bound ${bound})`);
  }

  /** Stops every data plane this fleet started (SpawnedProcess.stop fails on an uncaught-exception line) and the origins. */
  async stop(): Promise<void> {
    const errors: unknown[] = [];
    for (const dp of this.#started) await dp.proc.stop().catch((err: unknown) => errors.push(err));
    for (const o of [this.wb, this.target, this.targetH2, this.sink, this.dyingH1, this.dyingH2]) await o.close();
    rmSync(this.dir, { recursive: true, force: true });
    if (errors.length > 0) throw errors[0];
  }
}
