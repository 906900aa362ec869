/**
 * End-to-end with a real browser: headless Debian Chromium loads a page with subresources
 * (stylesheet, scripts, images, fetches, one answered after 2 s) through a real data plane
 * over HTTP/3, and upgrades from HTTP/2 to HTTP/3 through our Alt-Svc header.
 *
 * Why a network namespace: @currentspace/http3 0.9.0 gives a listener on a specific address
 * (tests bind only 127.0.0.1) a QUIC payload ceiling from the loopback MTU — 16383 bytes on the
 * usual 65536 — and probes up to it, ignoring the peer's max_udp_payload_size and its own
 * maxUdpPayloadSize option; Chromium closes the connection at the first packet above 1472 bytes
 * ("Packet too large", 0.23–0.55 s in), so pages fail on the host's loopback. The scenario
 * (chromium.scenario.ts) therefore runs — origin, data plane and Chromium — in `unshare -n -m`
 * with loopback MTU 1500 (ceiling 1472; sysfs remounted so the data plane's MTU check sees the
 * namespace's loopback). Skipped, with the reason, when Chromium or the namespace is not
 * available here. The last suite runs on the host loopback to check the startup warning.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import type { ScenarioResult } from './chromium.scenario.ts';
import { chromiumUnavailable } from './harness/chromium.ts';
import { PAGE_SUBRESOURCES, type PageReport, PAGE_SLOW_MS as SLOW_MS } from './harness/page-origin.ts';

const SCENARIO = join(import.meta.dirname, 'chromium.scenario.ts');
const SETUP_WITH_SYSFS = 'mount -t sysfs sysfs /sys && ip link set lo mtu 1500 up';
const SETUP = 'ip link set lo mtu 1500 up';

/** The `unshare` arguments that work here (with a private sysfs if allowed), or null. */
function namespaceArgs(): string[] | null {
  for (const [flags, setup] of [[['-n', '-m'], SETUP_WITH_SYSFS], [['-n'], SETUP]] as const) {
    const probe = spawnSync('unshare', [...flags, 'sh', '-c', setup], { timeout: 10_000, stdio: 'ignore' });
    if (probe.status === 0) return [...flags, 'sh', '-c', `${setup} && exec "$0" "$@"`];
  }
  return null;
}

/**
 * Runs the scenario, in the namespace when `unshareArgs` are given; bounded (SIGKILL after
 * `timeoutMs`; the scenario's own deadline is shorter and cleans up).
 */
function runScenario(unshareArgs: string[] | null, timeoutMs: number, extra: string[] = []): Promise<ScenarioResult> {
  return new Promise((resolve, reject) => {
    const node = [process.execPath, SCENARIO, ...extra];
    const [cmd, ...args] = unshareArgs ? ['unshare', ...unshareArgs, ...node] : node;
    const child = spawn(cmd as string, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-4000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as ScenarioResult);
      } catch {
        reject(new Error(`scenario ended (${code ?? signal}) without a result\nstdout: ${stdout.slice(-2000)}\nstderr: ${stderr}`));
      }
    });
  });
}

function protocols(report: PageReport): string {
  return report.resources.map((r) => `${r.name}=${r.protocol}`).join(', ');
}

/** Every subresource of the page was fetched, and nothing over anything but h3. */
function assertAllH3(report: PageReport, label: string): void {
  assert.equal(report.navProtocol, 'h3', `${label}: navigation over ${report.navProtocol}`);
  const names = new Set(report.resources.map((r) => r.name));
  for (const path of PAGE_SUBRESOURCES) assert.ok(names.has(path), `${label}: ${path} loaded (${protocols(report)})`);
  const other = report.resources.filter((r) => r.protocol !== 'h3');
  assert.deepEqual(other, [], `${label}: every resource over h3 (${protocols(report)})`);
}

function assertPageWorked(report: PageReport, label: string): void {
  assert.deepEqual(report.scriptsRan, [true, true], `${label}: both scripts ran`);
  assert.equal(report.dataOk, true, `${label}: the JSON fetch answered`);
  assert.equal(report.echoText, 'ping', `${label}: the POST body came back`);
  assert.equal(report.slowText, 'slow done', `${label}: the slow request finished`);
  // The request was held open for the origin's delay (a failed connection would show up as
  // a rejected fetch, i.e. a page error, long before).
  assert.ok(report.slowMs >= SLOW_MS - 100, `${label}: slow request took ${Math.round(report.slowMs)} ms`);
}

describe('Chromium through Spooky over HTTP/3 (loopback MTU 1500 namespace)', () => {
  let skip: string | null = null;
  let result: ScenarioResult;

  before(async () => {
    skip = chromiumUnavailable();
    if (skip) return;
    const args = namespaceArgs();
    if (!args) {
      skip = 'cannot create a network namespace here (unshare -n and ip link set lo mtu 1500 need CAP_SYS_ADMIN / root)';
      return;
    }
    result = await runScenario(args, 100_000);
    if (result.skipped) skip = result.skipped;
    else assert.equal(result.error, null, `scenario failed: ${result.error}`);
  });

  test('forced QUIC: the page and all its subresources, a 2 s request among them, arrive over h3', (t) => {
    if (skip) return t.skip(skip);
    assert.ok(result.forced, 'forced run reported');
    assertAllH3(result.forced, 'forced');
    assertPageWorked(result.forced, 'forced');
    assert.equal(result.forced.altSvc, `h3=":${result.port}"; ma=86400`, 'h3 responses advertise Alt-Svc too');
  });

  test('Alt-Svc: the first load is HTTP/2 and advertises h3; later requests and the next load go over h3 unforced', (t) => {
    if (skip) return t.skip(skip);
    assert.ok(result.altSvc, 'Alt-Svc run reported');
    const { first, firstResponses, upgrade, second } = result.altSvc;
    const altSvc = `h3=":${result.port}"; ma=86400`;
    assert.equal(first.navProtocol, 'h2', 'the first navigation goes over TLS/TCP');
    const doc = firstResponses.find((r) => r.path === '/index.html');
    assert.deepEqual(doc, { path: '/index.html', protocol: 'h2', altSvc }, 'the HTTP/2 document response carries Alt-Svc with the listener port');
    for (const r of firstResponses) assert.equal(r.altSvc, altSvc, `${r.path} (${r.protocol}) carries Alt-Svc`);
    assert.equal(first.altSvc, altSvc, 'fetch() sees the header too');
    assertPageWorked(first, 'first load');
    assert.equal(upgrade.protocols.at(-1), 'h3', `a later fetch goes over h3 (${upgrade.protocols.join(', ')})`);
    assertAllH3(second, 'second load');
    assertPageWorked(second, 'second load');
  });

  test('no path-MTU warning from the data plane when the loopback MTU is 1500', (t) => {
    if (skip) return t.skip(skip);
    if (result.loopbackMtu !== 1500) return t.skip(`sysfs shows the host's loopback (MTU ${result.loopbackMtu}), not the namespace's`);
    assert.equal(result.pmtuWarnings, 0);
  });
});

describe('Chromium on the host loopback (MTU above 1500): the known library defect', () => {
  test('the data plane warns once at startup; the page load is reported, not asserted (the library decides)', async (t) => {
    const unavailable = chromiumUnavailable();
    if (unavailable) return t.skip(unavailable);
    let mtu: number;
    try {
      mtu = Number.parseInt(readFileSync('/sys/class/net/lo/mtu', 'utf8'), 10);
    } catch {
      return t.skip('no /sys/class/net/lo/mtu here');
    }
    if (!(mtu > 1500)) return t.skip(`loopback MTU is ${mtu}: nothing to warn about`);
    const result = await runScenario(null, 60_000, ['--forced-only']);
    if (result.skipped) return t.skip(result.skipped);
    assert.equal(result.pmtuWarnings, 1, 'one path-MTU warning for the listener on 127.0.0.1');
    // Measured with 0.9.0: the first fetch already fails ("Failed to fetch": Chromium closed the
    // QUIC connection with "Packet too large" at a 1473-byte probe). A pass here means the
    // library no longer sizes probes from the loopback and the namespace above may go.
    const outcome = result.forced ? `page loaded over ${result.forced.navProtocol}` : `page failed: ${(result.error ?? '').split('\n')[0]}`;
    t.diagnostic(`host loopback MTU ${mtu}: ${outcome}`);
    if (result.error && !/Failed to fetch|page threw/.test(result.error)) assert.fail(`unexpected scenario error: ${result.error}`);
  });
});
