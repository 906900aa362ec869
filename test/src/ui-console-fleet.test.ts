/**
 * issue 13, the operator console with a fleet, in a real browser: headless Debian Chromium (CDP
 * over a pipe) against a real control plane (child process, SQLite file, a tokens file it
 * reloads) and three real data planes connected over gRPC, each in its own network namespace
 * (harness/netns-fleet.ts: one scope config, one listener port, like hosts of a fleet). Two operators sign in in turn:
 *  - `viewer` (config:read, fleet:read, audit:read) sees every scope and node, but every change
 *    is disabled with the server's reason shown beside it (GET /v1/whoami); a button forced
 *    back on in the page still gets the server's 403, which the console reports — the server
 *    stays the authority;
 *  - `operator` (also config:activate and config:rollback, not config:activate-immediate) rolls
 *    back through the UI (dialog, required reason, confirm); every data plane's own admin
 *    /generation and the control plane's /v1/nodes then show the fleet converged; during a
 *    staged rollout the fleet page shows each node's candidate, Promote is disabled (it needs
 *    config:activate-immediate) and Abort works.
 * Screenshots of each step are saved under test/artifacts/ui/ (paths printed). The tests run in
 * order and build on each other. Skipped, with the reason, when Chromium does not run here or
 * network namespaces are not allowed.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createToken } from '../../controlplane/src/auth/token-file.ts';
import { Chromium, chromiumUnavailable } from './harness/chromium.ts';
import { eventually } from './harness/eventually.ts';
import { fleetConfig } from './harness/fleet-config.ts';
import { freePort } from './harness/free-port.ts';
import { type Fleet, type FleetNode, NETNS_SKIP, netnsAvailable, startFleet } from './harness/netns-fleet.ts';
import { type Origin, startH1Origin } from './harness/origins.ts';
import { makeCa, makeLeaf, type Pem } from './harness/pki.ts';
import { ControlPlane } from './harness/planes.ts';
import { waitLkg } from './harness/rollout-api.ts';
import { DESKTOP, PHONE, UiPage } from './harness/ui-page.ts';

const SCOPE = 'ui-fleet';
const NODES = ['dp-fleet-1', 'dp-fleet-2', 'dp-fleet-3'] as const;
const ARTIFACTS = join(import.meta.dirname, '..', 'artifacts', 'ui');
const REASON = 'ui fleet e2e: seq 2 misroutes /b, back to seq 1';
const chromium = chromiumUnavailable();
const unavailable = chromium ? `Chromium unavailable: ${chromium}` : netnsAvailable() ? null : NETNS_SKIP;
if (unavailable) console.log(`# ui-console-fleet: skipped: ${unavailable}`);

interface NodeBody {
  readonly nodeId: string;
  readonly state: string;
  readonly serving: { seq: number } | null;
  readonly candidate: { seq: number; percent: number } | null;
}

describe('operator console with three data planes in headless Chromium', { skip: unavailable ?? false, timeout: 300_000 }, () => {
  let dir: string;
  let leaf: Pem;
  let origin: Origin;
  let cp: ControlPlane;
  let fleet: Fleet;
  let browser: Chromium;
  let ui: UiPage;
  let port: number;
  let viewerToken: string;
  let operatorToken: string;

  const config = (variant: string) => fleetConfig(port, leaf, [{ name: 'app', pathPrefix: `/${variant}`, backend: origin.url }]);

  async function shot(name: string): Promise<void> {
    const file = join(ARTIFACTS, `${name}.png`);
    await ui.screenshot(file);
    console.log(`# ui-console-fleet screenshot: ${file}`);
  }

  /** Opens a page by its hash route (re-rendering it when it is the current one) and returns its text. */
  async function open(route: string): Promise<string> {
    const r = JSON.stringify(route);
    await ui.evaluate(`if (location.hash === ${r}) dispatchEvent(new HashChangeEvent('hashchange')); else location.hash = ${r}`);
    const name = route.replace(/^#\//, '').split('?')[0];
    await ui.waitFor(`document.querySelector('[data-page="${name}"][data-loaded]')`, `page ${route} rendered`);
    const text = await ui.evaluate<string>(`document.getElementById('view').innerText`);
    assert.doesNotMatch(text, /Could not load/, `${route}: ${text.slice(0, 300)}`);
    const unlabelled = await ui.evaluate<string[]>(
      `[...document.querySelectorAll('input, textarea, select')].filter((el) => el.labels.length === 0 && !el.getAttribute('aria-label')).map((el) => el.outerHTML)`,
    );
    assert.deepEqual(unlabelled, [], `${route}: every control has a label`);
    const unexplained = await ui.evaluate<string[]>(
      `[...document.querySelectorAll('#view button[disabled], #view input[disabled]')].filter((el) => !document.getElementById(el.getAttribute('aria-describedby') ?? '') && !el.closest('[data-denied]') && !document.querySelector('p[data-denied]')).map((el) => el.outerHTML)`,
    );
    assert.deepEqual(unexplained, [], `${route}: every disabled control has its reason`);
    return text;
  }

  async function signIn(token: string): Promise<void> {
    if (await ui.evaluate<boolean>(`!document.getElementById('forget-token').hidden`)) await ui.click('#forget-token');
    await ui.waitFor(`!document.getElementById('login').hidden`, 'the sign-in form');
    await ui.type('#token-input', token);
    await ui.press('Enter');
    await ui.waitFor(`document.querySelector('[data-page="scopes"][data-loaded]')`, 'the scope page');
  }

  const nodes = async (): Promise<NodeBody[]> => (await cp.api<{ items: NodeBody[] }>('GET', `/v1/nodes?scope=${SCOPE}`)).body.items;
  const active = async () => (await cp.api<{ seq: number; version: number; actor: string; reason: string; lkgSeq: number | null }>('GET', `/v1/scopes/${SCOPE}/active`)).body;
  /** What a data plane itself says it serves (its admin endpoint, not the control plane's view). */
  const adminGeneration = (node: FleetNode) => node.generation();
  /** The reason shown beside a disabled control of `action`, or null when the control is offered. */
  const deniedReason = (selector: string) =>
    ui.evaluate<string | null>(
      `(() => { const el = document.querySelector(${JSON.stringify(selector)}); if (!el) return 'missing'; if (!el.disabled) return null; const note = document.getElementById(el.getAttribute('aria-describedby')); return note ? note.textContent : 'no note'; })()`,
    );

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'spooky-ui-fleet-'));
    const ca = makeCa(join(dir, 'pki'), 'ca');
    leaf = makeLeaf(join(dir, 'pki'), 'listener', 'localhost', 'DNS:localhost,IP:127.0.0.1', ca);
    origin = await startH1Origin('origin-ui-fleet');
    port = await freePort();
    cp = await ControlPlane.start(join(dir, 'cp'), { reportIntervalMs: 2_000 });
    // Added to the running control plane's tokens file (it reloads the file when it changes).
    const tokens = join(cp.dir, 'tokens.json');
    viewerToken = createToken(tokens, { name: 'viewer', permissions: ['config:read', 'fleet:read', 'audit:read'], scopes: [SCOPE] });
    operatorToken = createToken(tokens, {
      name: 'operator',
      permissions: ['config:read', 'fleet:read', 'audit:read', 'config:activate', 'config:rollback'],
      scopes: [SCOPE],
    });
    assert.equal(await cp.pushAndActivate(SCOPE, config('a'), 'ui fleet e2e: first'), 1);
    fleet = await startFleet({
      controlPlaneGrpc: cp.grpc,
      scope: SCOPE,
      nodes: NODES.map((id, i) => ({ id, labels: { zone: `z${i + 1}` } })),
      cacheRoot: join(dir, 'cache'),
      listenerPort: port,
      hostPorts: [origin.port],
      caFile: ca.cert,
    });
    await waitLkg(cp, SCOPE, 1);
    assert.equal(await cp.pushAndActivate(SCOPE, config('b'), 'ui fleet e2e: second'), 2);
    await waitLkg(cp, SCOPE, 2);
    browser = await Chromium.launch([]);
    ui = await UiPage.open(browser);
    await ui.viewport(DESKTOP);
    await ui.page.navigate(`${cp.http}/ui/`);
    await ui.waitFor(`!document.getElementById('login').hidden`, 'the sign-in form');
    await ui.type('#scope-input', SCOPE);
    await ui.press('Enter');
    await ui.waitFor(`sessionStorage.getItem('spooky.scope') === ${JSON.stringify(SCOPE)}`, 'the scope kept');
  });

  after(async () => {
    await browser?.close();
    await fleet?.stop();
    await cp?.proc.stop();
    await origin?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('read-only token: the scope list and the fleet are shown, every change is disabled with its reason', async () => {
    await signIn(viewerToken);
    assert.match(await ui.evaluate<string>(`document.getElementById('whoami').textContent`), /viewer/);
    const text = await open('#/scopes');
    const rows = await ui.evaluate<string[]>(`[...document.querySelectorAll('#view table')[0].querySelectorAll('tbody tr')].map((r) => r.innerText.replace(/\\s+/g, ' '))`);
    assert.deepEqual(rows.length, 1, 'the token sees only its scope');
    // Node counts by state: all three known (a busy machine may show one stale for a moment).
    assert.match(rows[0]!, new RegExp(`^${SCOPE} 2 (1|2) — 3 \\(connected \\d, stale \\d, disconnected 0; converged 3`));
    assert.match(text, /Active seq\s+2/);
    for (const selector of ['[data-action="rollback-previous"]', '[data-action="rollback-lkg"]', '#rollback-seq', '#activate-seq']) {
      assert.match((await deniedReason(selector)) ?? 'offered', /^Not offered: the token lacks permission config:(rollback|activate)\.$/, selector);
    }
    await shot('20-fleet-viewer-scope');
    const history = await open('#/history');
    assert.match(history, /Activate is not offered: the token lacks permission config:activate\./);
    assert.equal(await ui.evaluate<boolean>(`document.querySelector('[data-action="activate-1"]').disabled`), true);
    await shot('21-fleet-viewer-history');
    const fleetText = await open('#/fleet');
    // `stale` admitted: on a busy machine a node may miss three 2 s reports for a moment.
    for (const node of NODES) assert.match(fleetText, new RegExp(`${node}\\s+(connected|stale)\\s+seq 2\\s+—`), node);
    await shot('22-fleet-viewer-fleet');
  });

  test('read-only token: a control forced back on in the page still gets the server 403, reported; nothing moves', async () => {
    await open('#/scopes');
    await ui.evaluate(`document.querySelector('[data-action="rollback-previous"]').disabled = false`);
    await ui.click('[data-action="rollback-previous"]');
    await ui.waitFor(`document.getElementById('confirm').open`, 'the confirmation dialog');
    await ui.type('#confirm-reason', 'viewer tries anyway');
    await ui.click('#confirm-ok');
    await ui.waitFor(`/Roll back failed: 403/.test(document.getElementById('status').textContent)`, 'the 403 reported');
    assert.match(await ui.evaluate<string>(`document.getElementById('status').textContent`), /lacks permission config:rollback.*may not do this/);
    await shot('23-fleet-viewer-403');
    assert.equal((await active()).seq, 2, 'nothing moved');
  });

  test('operator token: rollback through the UI; every data plane converges (their admin /generation and /v1/nodes)', async () => {
    await signIn(operatorToken);
    await open('#/scopes');
    assert.equal(await deniedReason('[data-action="rollback-previous"]'), null, 'rollback offered');
    assert.equal(await deniedReason('#activate-seq'), null, 'activate offered');
    // By keyboard: focus the button, Enter opens the dialog with the focus in the reason.
    await ui.evaluate(`document.querySelector('[data-action="rollback-previous"]').focus()`);
    await ui.press('Enter');
    await ui.waitFor(`document.getElementById('confirm').open`, 'the confirmation dialog');
    assert.equal(await ui.evaluate<string>('document.activeElement.id'), 'confirm-reason', 'focus is in the dialog');
    await ui.click('#confirm-ok');
    assert.equal(await ui.evaluate<boolean>(`document.getElementById('confirm').open`), true, 'no reason, no confirm');
    await ui.type('#confirm-reason', REASON);
    await shot('24-fleet-operator-rollback-dialog');
    await ui.click('#confirm-ok');
    await ui.waitFor(`/Active is now seq 1/.test(document.getElementById('status').textContent)`, 'the rollback outcome');
    const pointer = await active();
    assert.deepEqual([pointer.seq, pointer.actor, pointer.reason], [1, 'operator', REASON]);
    await eventually('every node serving seq 1 in /v1/nodes', async () => {
      const all = await nodes();
      return all.length === NODES.length && all.every((n) => n.state === 'connected' && n.serving?.seq === 1) ? all : undefined;
    });
    for (const node of fleet.nodes) assert.equal((await adminGeneration(node)).serving?.seq, 1, `${node.id} admin serves seq 1`);
    const fleetText = await open('#/fleet');
    for (const node of NODES) assert.match(fleetText, new RegExp(`${node}\\s+(connected|stale)\\s+seq 1\\b`), node);
    await shot('25-fleet-operator-after-rollback');
  });

  test('staged rollout: the fleet page shows each node\'s candidate; Promote disabled for the operator, Abort works', async () => {
    // A staged start needs the fleet on the LKG, which follows the ACKs of seq 1.
    await waitLkg(cp, SCOPE, 1);
    const policy = { version: 1, stages: [{ name: 'fleet', percent: 100, soak_ms: 600_000 }], canary: { percent: 5 } };
    const stored = await cp.api('PUT', `/v1/scopes/${SCOPE}/rollout-policy`, { body: policy, reason: 'ui fleet e2e: long soak', headers: { 'if-match': '"0"' } });
    assert.equal(stored.status, 200, JSON.stringify(stored.body));
    const started = await cp.api<{ id: string }>('PUT', `/v1/scopes/${SCOPE}/active`, {
      body: { seq: 2, strategy: 'staged' },
      reason: 'ui fleet e2e: staged seq 2',
      headers: { 'if-match': `"${(await active()).version}"` },
    });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    await eventually('every node holding seq 2 as its candidate', async () => {
      const all = await nodes();
      return all.every((n) => n.candidate?.seq === 2 && n.serving?.seq === 1) ? all : undefined;
    });
    for (const node of fleet.nodes) assert.equal((await adminGeneration(node)).candidate?.seq, 2, `${node.id} admin holds the candidate`);
    const fleetText = await open('#/fleet');
    for (const node of NODES) assert.match(fleetText, new RegExp(`${node}\\s+(connected|stale)\\s+seq 1\\s+seq 2 \\(5 %\\)`), node);
    await shot('26-fleet-candidates');
    await ui.viewport(PHONE);
    await shot('26-fleet-candidates-phone');
    await ui.viewport(DESKTOP);
    await ui.click(`a[href="#/node?id=${NODES[0]}"]`);
    await ui.waitFor(`document.querySelector('[data-page="node"][data-loaded]')`, 'the node page');
    assert.match(await ui.evaluate<string>(`document.getElementById('view').innerText`), /Candidate\s+seq 2 \([0-9a-f]{12}\), 5 % of new requests/);

    const scope = await open('#/scopes');
    assert.match(scope, /running: seq 2, stage 1\/1 fleet/, 'the scope list shows the live rollout');
    assert.match((await deniedReason('[data-action="rollout-promote"]')) ?? 'offered', /lacks permission config:activate-immediate/);
    assert.equal(await deniedReason('[data-action="rollout-abort"]'), null, 'abort offered');
    await shot('27-fleet-rollout-controls');
    await ui.click('[data-action="rollout-abort"]');
    await ui.waitFor(`document.getElementById('confirm').open`, 'the confirmation dialog');
    await ui.type('#confirm-reason', 'ui fleet e2e: abort');
    await ui.click('#confirm-ok');
    await ui.waitFor(`/Rollout abort: done/.test(document.getElementById('status').textContent)`, 'the abort outcome');
    const rollout = (await cp.api<{ status: string; final: boolean }>('GET', `/v1/rollouts/${started.body.id}`)).body;
    assert.deepEqual([rollout.status, rollout.final], ['aborted', true]);
    await eventually('every node dropped its candidate and serves seq 1', async () => {
      const all = await nodes();
      return all.every((n) => n.candidate === null && n.serving?.seq === 1) ? all : undefined;
    });
    for (const node of fleet.nodes) assert.equal((await adminGeneration(node)).candidate ?? null, null, `${node.id} admin dropped the candidate`);
    const after = await open('#/fleet');
    for (const node of NODES) assert.match(after, new RegExp(`${node}\\s+(connected|stale)\\s+seq 1\\s+—`), node);
    await shot('28-fleet-after-abort');
  });

  test('the whole session ran without a script error or a CSP violation', () => {
    // The forced 403 is an answer the console reports, not a page error.
    assert.deepEqual(ui.errors.filter((e) => !/status of 403/.test(e)), []);
  });
});
