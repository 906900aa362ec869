/**
 * The body of chromium.test.ts, run as its own process inside a network namespace whose
 * loopback has MTU 1500 (the test starts it with `unshare -n`; see there for why). Starts a
 * page origin, a data plane on a config file and Chromium twice, and prints ONE JSON line, a
 * ScenarioResult, on stdout; the test asserts on it. Every wait is bounded; everything started
 * here is stopped here, also on failure.
 *
 *  - forced: Chromium told to speak QUIC to the listener (`--origin-to-force-quic-on`);
 *  - altSvc: a fresh Chromium NOT forced for the listener: first load over TLS/TCP, the
 *    Alt-Svc upgrade, then a second load of the same page (not with `--forced-only`).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureSelfSignedCert } from './harness/certs.ts';
import { Chromium, chromiumUnavailable, type ResponseSeen, spkiHash } from './harness/chromium.ts';
import { DataPlane } from './harness/data-plane.ts';
import { freePort } from './harness/free-port.ts';
import { type PageReport, PAGE_SLOW_MS as SLOW_MS, startPageOrigin, type UpgradeReport } from './harness/page-origin.ts';

/** `--forced-only`: the forced run alone (the host-loopback check). */
const FORCED_ONLY = process.argv.includes('--forced-only');

/** After this, open browsers are closed so every pending wait ends and cleanup runs. */
const DEADLINE_MS = 75_000;

export interface ScenarioResult {
  readonly skipped: string | null;
  readonly error: string | null;
  readonly port: number;
  readonly loopbackMtu: number | null;
  readonly forced: PageReport | null;
  readonly altSvc: {
    readonly first: PageReport;
    /** Every response of the first load as DevTools saw it (protocol and Alt-Svc header). */
    readonly firstResponses: readonly ResponseSeen[];
    readonly upgrade: UpgradeReport;
    readonly second: PageReport;
  } | null;
  /** Data plane log lines warning about the path MTU (none expected on a 1500 loopback). */
  readonly pmtuWarnings: number;
}

function loopbackMtu(): number | null {
  try {
    return Number.parseInt(readFileSync('/sys/class/net/lo/mtu', 'utf8'), 10);
  } catch {
    return null;
  }
}

/** Loads index.html in a new tab and returns the page's report. */
async function loadPage(browser: Chromium, url: string): Promise<PageReport> {
  const page = await browser.newPage();
  await page.navigate(url, 20_000);
  return page.evaluate<PageReport>('window.spookyDone', SLOW_MS + 15_000);
}

async function main(): Promise<ScenarioResult> {
  const base = { port: 0, loopbackMtu: null, forced: null, altSvc: null, pmtuWarnings: 0 };
  const unavailable = chromiumUnavailable();
  if (unavailable) return { ...base, skipped: unavailable, error: null };
  const dir = mkdtempSync(join(tmpdir(), 'spooky-chromium-e2e-'));
  const origin = await startPageOrigin(SLOW_MS);
  let dp: DataPlane | null = null;
  const browsers: Chromium[] = [];
  const result: { -readonly [K in keyof ScenarioResult]: ScenarioResult[K] } = { ...base, skipped: null, error: null, loopbackMtu: loopbackMtu() };
  const deadline = setTimeout(() => {
    result.error = `scenario deadline (${DEADLINE_MS} ms) passed`;
    for (const b of browsers) void b.close();
  }, DEADLINE_MS);
  try {
    const cert = ensureSelfSignedCert(join(dir, 'certs'));
    const port = await freePort();
    result.port = port;
    const config = join(dir, 'spooky.json');
    writeFileSync(
      config,
      JSON.stringify({
        version: 1,
        listen: { address: '127.0.0.1', port, tls: { cert: cert.cert, key: cert.key } },
        upstream: { site: { route: { path_prefix: '/' }, backends: [{ id: 'page', address: origin.url }] } },
      }),
    );
    dp = await DataPlane.start({ config });
    await dp.proc.waitForLog((l) => l.msg === 'generation applied', 30_000);
    const url = `https://127.0.0.1:${port}/index.html`;
    const trust = `--ignore-certificate-errors-spki-list=${spkiHash(cert.cert)}`;

    let forcedBrowser: Chromium;
    try {
      forcedBrowser = await Chromium.launch(['--enable-quic', `--origin-to-force-quic-on=127.0.0.1:${port}`, trust]);
    } catch (err) {
      result.skipped = `chromium cannot be started: ${(err as Error).message.split('\n')[0]}`;
      return result;
    }
    browsers.push(forcedBrowser);
    result.forced = await loadPage(forcedBrowser, url);
    await forcedBrowser.close();
    if (FORCED_ONLY) return result;

    // Forcing QUIC on another port of the same host puts 127.0.0.1 on Chromium's allow-list
    // for certificates without a known root (see harness/chromium.ts) and forces nothing here.
    const otherPort = port === 9 ? 10 : 9;
    const plain = await Chromium.launch(['--enable-quic', `--origin-to-force-quic-on=127.0.0.1:${otherPort}`, trust]);
    browsers.push(plain);
    const page = await plain.newPage();
    const responses = await page.recordResponses();
    await page.navigate(url, 20_000);
    const first = await page.evaluate<PageReport>('window.spookyDone', SLOW_MS + 15_000);
    const firstResponses = [...responses];
    const upgrade = await page.evaluate<UpgradeReport>('window.spookyUntilH3(30)', 20_000);
    await page.navigate(url, 20_000);
    const second = await page.evaluate<PageReport>('window.spookyDone', SLOW_MS + 15_000);
    result.altSvc = { first, firstResponses, upgrade, second };
    return result;
  } catch (err) {
    result.error = `${result.error ?? ''}\n${(err as Error).stack ?? String(err)}`.trim();
    return result;
  } finally {
    clearTimeout(deadline);
    for (const b of browsers) await b.close();
    if (dp) {
      result.pmtuWarnings = dp.proc.lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('HTTP/3 listener on a specific address')).length;
      try {
        await dp.proc.stop();
      } catch (err) {
        result.error = `${result.error ?? ''}\n${(err as Error).message}`.trim();
      }
    }
    await origin.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

process.stdout.write(`${JSON.stringify(await main())}\n`);
