/**
 * issue 13, the operator console in a real browser: headless Debian Chromium (CDP over a pipe)
 * loads GET /ui/ from a real control plane (child process, SQLite file, admin token) with a
 * real data plane connected over gRPC. The operator picks the scope, enters the token, opens
 * every page, watches the live event feed, and rolls back through the UI (dialog, a reason
 * that is required, confirm); the REST API then shows the pointer moved with that reason, and
 * the data plane applied the generation; then it pauses, resumes and aborts a staged rollout
 * with the rollout controls, each checked over REST. A screenshot of each page (desktop, plus the history
 * on a phone viewport) is saved under test/artifacts/ui/ and its path printed. The tests run in
 * order and build on each other. Skipped, with the reason, when Chromium does not run here.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type CertFiles, ensureSelfSignedCert } from './harness/certs.ts';
import { Chromium, chromiumUnavailable } from './harness/chromium.ts';
import { freePort } from './harness/free-port.ts';
import { type Origin, startH1Origin } from './harness/origins.ts';
import { ControlPlane, DataPlane } from './harness/planes.ts';
import { DESKTOP, PHONE, UiPage } from './harness/ui-page.ts';
import { UI_ASSETS } from '../../controlplane/src/ui/ui-routes.ts';

const SCOPE = 'ui-e2e';
const NODE = 'dp-ui-1';
const ARTIFACTS = join(import.meta.dirname, '..', 'artifacts', 'ui');
const REASON = 'ui e2e: seq 2 misroutes /b, back to seq 1';
const unavailable = chromiumUnavailable();
if (unavailable) console.log(`# ui-console: skipped, Chromium unavailable: ${unavailable}`);

interface ActiveBody {
  readonly seq: number | null;
  readonly version: number;
  readonly actor: string | null;
  readonly reason: string | null;
}

describe('operator console in headless Chromium', { skip: unavailable ? `Chromium unavailable: ${unavailable}` : false }, () => {
  let dir: string;
  let cert: CertFiles;
  let origin: Origin;
  let cp: ControlPlane;
  let dp: DataPlane;
  let browser: Chromium;
  let ui: UiPage;
  let port: number;

  const config = (variant: string): string =>
    [
      'version: 1',
      'listen:',
      '  address: 127.0.0.1',
      `  port: ${port}`,
      '  tls:',
      `    cert: ${cert.cert}`,
      `    key: ${cert.key}`,
      'upstream:',
      '  app:',
      '    route:',
      `      path_prefix: /${variant}`,
      '    backends:',
      '      - id: o1',
      `        address: ${origin.url}`,
      '',
    ].join('\n');

  async function shot(name: string): Promise<void> {
    const file = join(ARTIFACTS, `${name}.png`);
    await ui.screenshot(file);
    console.log(`# ui-console screenshot: ${file}`);
  }

  /** Opens a page by its hash route and waits until it has rendered. */
  async function open(route: string): Promise<string> {
    await ui.evaluate(`location.hash = ${JSON.stringify(route)}`);
    const name = route.replace(/^#\//, '').split('?')[0];
    await ui.waitFor(`document.querySelector('[data-page="${name}"][data-loaded]')`, `page ${route} rendered`);
    const text = await ui.evaluate<string>(`document.getElementById('view').innerText`);
    assert.doesNotMatch(text, /Could not load/, `${route}: ${text.slice(0, 300)}`);
    const unlabelled = await ui.evaluate<string[]>(
      `[...document.querySelectorAll('input, textarea, select')].filter((el) => el.labels.length === 0 && !el.getAttribute('aria-label')).map((el) => el.outerHTML)`,
    );
    assert.deepEqual(unlabelled, [], `${route}: every control has a label`);
    const unnamed = await ui.evaluate<string[]>(`[...document.querySelectorAll('button')].filter((b) => b.textContent.trim() === '').map((b) => b.outerHTML)`);
    assert.deepEqual(unnamed, [], `${route}: every button has a name`);
    return text;
  }

  async function active(): Promise<ActiveBody> {
    return (await cp.api<ActiveBody>('GET', `/v1/scopes/${SCOPE}/active`)).body;
  }

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'spooky-ui-'));
    cert = ensureSelfSignedCert(join(dir, 'certs'));
    origin = await startH1Origin('origin-ui');
    port = await freePort();
    cp = await ControlPlane.start(join(dir, 'cp'), { reportIntervalMs: 2_000 });
    dp = await DataPlane.start({ controlPlane: cp.grpc, nodeId: NODE, scope: SCOPE, cacheDir: join(dir, 'cache') });
    assert.equal(await cp.pushAndActivate(SCOPE, config('a'), 'ui e2e: first'), 1);
    await dp.waitForApplied(1);
    assert.equal(await cp.pushAndActivate(SCOPE, config('b'), 'ui e2e: second'), 2);
    await dp.waitForApplied(2);
    browser = await Chromium.launch([]);
    ui = await UiPage.open(browser);
    await ui.viewport(DESKTOP);
  });

  after(async () => {
    await browser?.close();
    await dp?.proc.stop();
    await cp?.proc.stop();
    await origin?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('loads /ui/ offline-capable (no other origin), asks for the token, keeps it out of URLs and cookies', async () => {
    const seen = await ui.page.recordResponses();
    await ui.page.navigate(`${cp.http}/ui/`);
    await ui.waitFor(`!document.getElementById('login').hidden`, 'the sign-in form');
    assert.ok(seen.every((r) => !r.path.startsWith('http')), 'only same-origin loads');
    assert.deepEqual(
      seen.map((r) => r.path).sort(),
      ['/ui/', ...Object.keys(UI_ASSETS).filter((f) => f !== 'index.html').map((f) => `/ui/${f}`)].sort(),
      'the page is its static files (every module of the allow-list, nothing else) and makes no API call without a token',
    );
    await ui.type('#scope-input', SCOPE);
    await ui.press('Enter');
    await ui.waitFor(`sessionStorage.getItem('spooky.scope') === ${JSON.stringify(SCOPE)}`, 'the scope kept');
    await shot('01-sign-in');
    await ui.type('#token-input', cp.token);
    await ui.press('Enter');
    await ui.waitFor(`document.querySelector('[data-page="scopes"][data-loaded]')`, 'the scope page');
    const where = await ui.evaluate<{ href: string; cookie: string; stored: string | null; field: string }>(
      `({ href: location.href, cookie: document.cookie, stored: sessionStorage.getItem('spooky.token'), field: document.getElementById('token-input').value })`,
    );
    assert.equal(where.stored, cp.token, 'kept in sessionStorage');
    assert.ok(!where.href.includes(cp.token), 'never in the URL');
    assert.equal(where.cookie, '', 'no cookie');
    assert.equal(where.field, '', 'the input is cleared');
  });

  test('scope page: active generation, LKG, fleet convergence, rollouts', async () => {
    const text = await open('#/scopes');
    assert.match(text, /Active seq\s+2/);
    assert.match(text, /Reason\s+ui e2e: second/);
    assert.match(text, /Last known good\s+(1|2)/);
    assert.match(text, /Nodes\s+1 \(connected 1/);
    assert.match(text, /Rollouts/);
    await shot('02-scope');
  });

  test('history page: seq, state, author, reason, digest', async () => {
    const text = await open('#/history');
    const rows = await ui.evaluate<string[]>(`[...document.querySelectorAll('#view tbody tr')].map((r) => r.innerText.replace(/\\s+/g, ' '))`);
    assert.equal(rows.length, 2);
    assert.match(rows[0]!, /^2 active .* admin ui e2e: second [0-9a-f]{12}/);
    assert.match(rows[1]!, /^1 .*admin ui e2e: first [0-9a-f]{12} .*Activate seq 1/);
    assert.match(text, /Diff vs active/);
    await shot('03-history');
    await ui.viewport(PHONE);
    const columns = await ui.evaluate<string>(`getComputedStyle(document.querySelector('#view td')).display`);
    assert.equal(columns, 'block', 'one column on a phone');
    await shot('03-history-phone');
    await ui.viewport(DESKTOP);
  });

  test('diff page: side by side, before and after', async () => {
    const text = await open('#/diff?from=1&to=2');
    assert.match(text, /Before: seq 1/);
    assert.match(text, /After: seq 2/);
    assert.match(text, /\/upstream\/app\/route\/path_prefix/);
    const cells = await ui.evaluate<string[]>(`[...document.querySelectorAll('.diff pre')].map((p) => p.textContent)`);
    assert.deepEqual(cells.slice(0, 2), ['"/a"', '"/b"']);
    await ui.type('#probe-requests', 'GET localhost /a/x\nget localhost /b/y\nGET localhost /c');
    await ui.click(`form:has(#probe-requests) button[type="submit"]`);
    await ui.waitFor(`document.querySelectorAll('#probe-results tbody tr').length === 3`, 'the behaviour results');
    const probes = await ui.evaluate<string[]>(`[...document.querySelectorAll('#probe-results tbody tr')].map((r) => r.innerText.replace(/\\s+/g, ' '))`);
    assert.match(probes[0]!, /^GET localhost\/a\/x .*"app".* changed$/);
    assert.match(probes[1]!, /^GET localhost\/b\/y .* changed$/);
    assert.match(probes[2]!, /^GET localhost\/c null null same$/);
    await shot('04-diff');
  });

  test('fleet page: the node, its state, serving seq and labels', async () => {
    const text = await open('#/fleet');
    assert.match(text, new RegExp(`${NODE}\\s+connected\\s+seq 2`));
    await shot('05-fleet');
    await ui.click(`a[href="#/node?id=${NODE}"]`);
    await ui.waitFor(`document.querySelector('[data-page="node"][data-loaded]')`, 'the node page');
    const node = await ui.evaluate<string>(`document.getElementById('view').innerText`);
    assert.match(node, new RegExp(`Node ${NODE}`));
    assert.match(node, /Serving\s+seq 2 \([0-9a-f]{12}\) from \w+/);
    assert.match(node, /History[\s\S]*\backed\s+2\b/);
    await shot('05-node');
  });

  test('audit page: entries and a verified hash chain', async () => {
    const text = await open('#/audit');
    assert.match(text, /activate/);
    await ui.waitFor(`/verified/.test(document.getElementById('audit-verdict').textContent)`, 'chain verification');
    await shot('06-audit');
  });

  test('events page: the live feed shows a generation created meanwhile (fetch-streamed SSE)', async () => {
    await open('#/events');
    await ui.waitFor(`/Connected/.test(document.getElementById('event-state').textContent)`, 'the stream connected');
    const created = await cp.api<{ seq: number }>('POST', `/v1/scopes/${SCOPE}/generations`, { yaml: config('c'), reason: 'ui e2e: third, not activated' });
    assert.equal(created.body.seq, 3);
    await ui.waitFor(`/generation\\.created/.test(document.getElementById('event-list').textContent)`, 'the generation.created event');
    await shot('07-events');
  });

  test('rollback through the UI: dialog takes focus, a reason is required, the pointer moves and the node converges', async () => {
    await open('#/scopes');
    await ui.click('[data-action="rollback-previous"]');
    await ui.waitFor(`document.getElementById('confirm').open`, 'the confirmation dialog');
    assert.equal(await ui.evaluate<string>('document.activeElement.id'), 'confirm-reason', 'focus is in the dialog');
    await ui.click('#confirm-ok');
    assert.equal(await ui.evaluate<boolean>(`document.getElementById('confirm').open`), true, 'no reason, no confirm');
    assert.equal((await active()).seq, 2, 'nothing moved');
    await ui.type('#confirm-reason', REASON);
    await shot('08-rollback-dialog');
    await ui.click('#confirm-ok');
    await ui.waitFor(`/Active is now seq 1/.test(document.getElementById('status').textContent)`, 'the rollback outcome');
    const pointer = await active();
    assert.deepEqual([pointer.seq, pointer.actor, pointer.reason], [1, 'admin', REASON]);
    await dp.waitForApplied(1);
    const deadline = Date.now() + 20_000;
    for (;;) {
      const nodes = (await cp.api<{ items: { nodeId: string; serving: { seq: number } | null }[] }>('GET', `/v1/nodes?scope=${SCOPE}`)).body;
      if (nodes.items.find((n) => n.nodeId === NODE)?.serving?.seq === 1) break;
      assert.ok(Date.now() < deadline, `node not serving seq 1: ${JSON.stringify(nodes)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const audit = (await cp.api<{ items: { action: string; actor: string; detail: { seq?: number; reason?: string } }[] }>('GET', `/v1/audit?scope=${SCOPE}`)).body.items;
    const rollback = audit.filter((e) => e.action === 'active.rollback');
    assert.deepEqual(rollback.map((e) => [e.actor, e.detail.seq, e.detail.reason]), [['admin', 1, REASON]], 'one rollback, audited with its reason');
    const fleet = await open('#/fleet');
    assert.match(fleet, new RegExp(`${NODE}\\s+connected\\s+seq 1`));
    await shot('09-fleet-after-rollback');
  });

  test('rollout controls through the UI: pause, resume and abort a staged rollout', async () => {
    const policy = { version: 1, stages: [{ name: 'fleet', percent: 100, soak_ms: 600_000 }], canary: { percent: 5 } };
    const stored = await cp.api('PUT', `/v1/scopes/${SCOPE}/rollout-policy`, { body: policy, reason: 'ui e2e: long soak', headers: { 'if-match': '"0"' } });
    assert.equal(stored.status, 200, JSON.stringify(stored.body));
    const { version } = await active();
    const started = await cp.api<{ id: string }>('PUT', `/v1/scopes/${SCOPE}/active`, {
      body: { seq: 2, strategy: 'staged' },
      reason: 'ui e2e: staged seq 2',
      headers: { 'if-match': `"${version}"` },
    });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const id = started.body.id;
    const status = async (): Promise<{ status: string; final: boolean }> => (await cp.api<{ status: string; final: boolean }>('GET', `/v1/rollouts/${id}`)).body;
    await open('#/scopes');
    for (const [action, expected] of [['pause', 'paused'], ['resume', 'running'], ['abort', 'aborted']] as const) {
      await ui.waitFor(`document.querySelector('[data-action="rollout-${action}"]')`, `the ${action} button`);
      await ui.click(`[data-action="rollout-${action}"]`);
      await ui.waitFor(`document.getElementById('confirm').open`, 'the confirmation dialog');
      await ui.type('#confirm-reason', `ui e2e: ${action}`);
      if (action === 'pause') await shot('10-rollout-dialog');
      await ui.click('#confirm-ok');
      await ui.waitFor(`/Rollout ${action}: done/.test(document.getElementById('status').textContent)`, `the ${action} outcome`);
      assert.equal((await status()).status, expected);
    }
    assert.equal((await status()).final, true);
    await ui.waitFor(`document.querySelector('[data-page="scopes"][data-loaded]')`, 'the scope page re-rendered');
    assert.match(await ui.evaluate<string>(`document.getElementById('view').innerText`), /aborted/);
    await shot('11-scope-after-abort');
    await ui.viewport(PHONE);
    await shot('11-scope-phone');
    await ui.viewport(DESKTOP);
  });

  test('Escape cancels the dialog and moves nothing; "Forget token" signs out', async () => {
    const before = await active();
    await open('#/scopes');
    await ui.click('[data-action="rollback-previous"]');
    await ui.waitFor(`document.getElementById('confirm').open`, 'the confirmation dialog');
    await ui.press('Escape');
    await ui.waitFor(`!document.getElementById('confirm').open && /Cancelled/.test(document.getElementById('status').textContent)`, 'the dialog cancelled');
    assert.deepEqual(await active(), before);
    await ui.click('#forget-token');
    await ui.waitFor(`!document.getElementById('login').hidden`, 'the sign-in form again');
    assert.equal(await ui.evaluate<string | null>(`sessionStorage.getItem('spooky.token')`), null);
  });

  test('the whole session ran without a script error or a CSP violation; the CSP blocks an injected inline script', async () => {
    assert.deepEqual(ui.errors, []);
    await ui.evaluate(`document.head.append(Object.assign(document.createElement('script'), { textContent: 'window.injected = 1' }))`);
    assert.equal(await ui.evaluate<unknown>(`window.injected ?? null`), null, 'the inline script did not run');
    const deadline = Date.now() + 5_000;
    while (!ui.errors.some((e) => /Content Security Policy/.test(e))) {
      assert.ok(Date.now() < deadline, `no CSP violation reported: ${JSON.stringify(ui.errors)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
});
