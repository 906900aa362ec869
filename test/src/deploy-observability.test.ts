/**
 * deploy/prometheus and deploy/grafana against the metrics the planes really serve: every rule
 * has a `for:`, a severity and a runbook anchor that exists in docs/operations.md; `promtool
 * check rules` and `promtool test rules` when installed; and every metric name (and, where the
 * family has samples, every label name) in a rule, a rule test or a panel is one that a real
 * control plane and a real data plane, started here with a request through them, serve on
 * /metrics. Also the Docker health script against those planes.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { type CertFiles, ensureSelfSignedCert } from './harness/certs.ts';
import { anchorsOf } from './harness/deploy-manifests.ts';
import { freePort } from './harness/free-port.ts';
import { type Origin, startH1Origin } from './harness/origins.ts';
import { ControlPlane, DataPlane } from './harness/planes.ts';
import { type Family, parseExposition, promqlNames } from './harness/promql-names.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const DEPLOY = join(ROOT, 'deploy');
const read = (...parts: string[]): string => readFileSync(join(DEPLOY, ...parts), 'utf8');
const has = (command: string): boolean => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;

describe('deploy/prometheus and deploy/grafana against the metrics the planes really serve', () => {
  let dir: string;
  let cert: CertFiles;
  let origin: Origin;
  let cp: ControlPlane;
  let dp: DataPlane;
  /** Families served by either plane, plus Prometheus's own per-target series. */
  const families = new Map<string, Family>();
  const seriesToFamily = new Map<string, Family>();
  /** Target labels Prometheus adds (scrape-config.example.yml sets `scope`). */
  const TARGET_LABELS = new Set(['job', 'instance', 'scope']);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spooky-deploy-'));
    cert = ensureSelfSignedCert(join(dir, 'certs'));
    origin = await startH1Origin('app');
    cp = await ControlPlane.start(join(dir, 'cp'));
    dp = await DataPlane.start({ controlPlane: cp.grpc.replace(/^\w+:\/\//, ''), nodeId: 'edge-1', scope: 'default', cacheDir: join(dir, 'cache') });
    const port = await freePort();
    const seq = await cp.pushAndActivate('default', {
      version: 1,
      listen: { address: '127.0.0.1', port, tls: { cert: cert.cert, key: cert.key } },
      upstream: {
        app: {
          route: { path_prefix: '/' },
          backends: [{ id: 'app-1', address: origin.url, health_check: { path: '/health', interval: 200, timeout_ms: 100 } }],
        },
      },
    }, 'deploy-files test');
    await dp.waitForApplied(seq);
    // One request through the proxy, so the request families have samples (and label names).
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/', servername: 'localhost', ca: readFileSync(cert.cert) }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.setTimeout(10_000, () => req.destroy(new Error('request timed out')));
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 200);
    for (const url of [`${cp.http}/metrics`, `${dp.admin}/metrics`]) {
      const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      assert.equal(res.status, 200, url);
      for (const [name, family] of parseExposition(await res.text())) families.set(name, family);
    }
    families.set('up', { type: 'gauge', labels: new Set(), series: ['up'] });
    for (const family of families.values()) for (const s of family.series) seriesToFamily.set(s, family);
  });

  after(async () => {
    await dp?.proc.stop();
    await cp?.proc.stop();
    await origin?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Every metric in `expr` is served; every matcher and grouping label is one the family carries (when known). */
  const checkExpression = (where: string, expr: string): void => {
    const names = promqlNames(expr);
    assert.ok(names.selectors.length > 0, `${where}: names at least one metric: ${expr}`);
    const known = new Set(TARGET_LABELS);
    for (const { metric, matcherLabels } of names.selectors) {
      const family = seriesToFamily.get(metric);
      assert.ok(family, `${where}: ${metric} is served by a plane's /metrics (${expr})`);
      for (const l of family.labels) known.add(l);
      if (family.labels.size === 0) continue; // no samples here: label names unknown
      for (const label of matcherLabels) assert.ok(family.labels.has(label) || TARGET_LABELS.has(label), `${where}: ${metric} has label ${label}`);
    }
    const allKnown = names.selectors.every((s) => (seriesToFamily.get(s.metric)?.labels.size ?? 0) > 0);
    if (allKnown) for (const label of names.groupingLabels) assert.ok(known.has(label), `${where}: grouping label ${label} is on ${names.selectors.map((s) => s.metric).join(', ')}`);
  };

  test('deploy/docker/healthcheck.mjs: exit 0 for the data plane /ready and control plane /readyz, 1 for a closed port', async () => {
    const check = (url: string) => spawnSync(process.execPath, [join(DEPLOY, 'docker', 'healthcheck.mjs')], { env: { SPOOKY_HEALTH_URL: url }, encoding: 'utf8', timeout: 10_000 });
    const ready = check(`${dp.admin}/ready`);
    assert.equal(ready.status, 0, ready.stdout);
    assert.equal(ready.stdout.trim(), '/ready: 200');
    assert.equal(check(`${cp.http}/readyz`).status, 0);
    const closed = check(`http://127.0.0.1:${await freePort()}/ready`);
    assert.equal(closed.status, 1);
    assert.match(closed.stdout, /ECONNREFUSED/);
  });

  test('the scrape found both planes: spooky_cp_* and spooky_* families, with samples', () => {
    assert.ok(seriesToFamily.has('spooky_cp_http_requests_total'));
    assert.ok(seriesToFamily.get('spooky_requests_total')?.labels.has('status_class'));
    assert.ok(seriesToFamily.get('spooky_requests_total')?.labels.has('route'));
    assert.ok(seriesToFamily.get('spooky_config_apply_duration_seconds_bucket')?.labels.has('result'));
    assert.ok(seriesToFamily.get('spooky_cp_nodes')?.labels.has('state'));
    assert.ok(seriesToFamily.get('spooky_cp_node_serving_seq')?.labels.has('node'));
    assert.ok(seriesToFamily.has('spooky_cp_nacks_total'));
    assert.ok(seriesToFamily.get('spooky_generation_info')?.labels.has('seq'));
    assert.ok(seriesToFamily.get('spooky_backend_healthy')?.labels.has('upstream'));
  });

  test('the check itself refuses a misspelt metric, a label the family lacks and a grouping label no metric has', () => {
    assert.throws(() => checkExpression('probe', 'rate(spooky_request_total[5m])'), /spooky_request_total is served/);
    assert.throws(() => checkExpression('probe', 'sum(rate(spooky_requests_total{status="5xx"}[5m]))'), /has label status/);
    assert.throws(() => checkExpression('probe', 'sum by (tenant) (rate(spooky_requests_total[5m]))'), /grouping label tenant/);
    assert.throws(() => checkExpression('probe', 'sum(rate(spooky_requests_total{upstream="a}[5m]))'), /unterminated string/);
    assert.doesNotThrow(() => checkExpression('probe', 'sum by (upstream) (rate(spooky_requests_total{status_class="5xx", job="j"}[5m]))'));
  });

  test('alert rules: each has for, severity and a runbook anchor in docs/operations.md, and names only served metrics', () => {
    const doc = parseYaml(read('prometheus', 'spooky-alerts.yml')) as { groups: { name: string; rules: Record<string, unknown>[] }[] };
    const anchors = anchorsOf(readFileSync(join(ROOT, 'docs', 'operations.md'), 'utf8'));
    const alerts = new Set<string>();
    for (const group of doc.groups) {
      for (const rule of group.rules) {
        const name = String(rule['alert']);
        assert.ok(!alerts.has(name), `${name} is unique`);
        alerts.add(name);
        assert.match(String(rule['for']), /^\d+[smh]$/, `${name} has a for: duration`);
        const labels = rule['labels'] as Record<string, string>;
        assert.ok(['warning', 'critical'].includes(labels['severity'] ?? ''), `${name} severity`);
        const annotations = rule['annotations'] as Record<string, string>;
        assert.ok(annotations['summary'] && annotations['description'], `${name} summary + description`);
        const anchor = /^docs\/operations\.md#(.+)$/.exec(annotations['runbook_url'] ?? '')?.[1];
        assert.ok(anchor && anchors.has(anchor), `${name}: runbook ${annotations['runbook_url']} is a heading of docs/operations.md`);
        checkExpression(name, String(rule['expr']));
      }
    }
    for (const required of ['SpookyNodeStale', 'SpookyNodeNacking', 'SpookyGenerationDivergence', 'SpookyHigh5xxRatio', 'SpookyUpstreamAllBackendsDown', 'SpookyControlPlaneStoreNotReady']) {
      assert.ok(alerts.has(required), `${required} is defined`);
    }
    const divergence = doc.groups.flatMap((g) => g.rules).find((r) => r['alert'] === 'SpookyGenerationDivergence');
    assert.equal(divergence?.['for'], '5m');
    // The rule unit tests' synthetic series name real metrics and labels too.
    const unit = parseYaml(read('prometheus', 'spooky-alerts.test.yml')) as { tests: { input_series: { series: string }[] }[] };
    for (const series of unit.tests.flatMap((c) => c.input_series)) checkExpression('spooky-alerts.test.yml', series.series);
  });

  test('promtool check rules accepts the rules file', (t) => {
    if (!has('promtool')) {
      t.skip('promtool is not installed (Debian package prometheus); the rules were parsed and their metric names checked instead');
      return;
    }
    const out = execFileSync('promtool', ['check', 'rules', join(DEPLOY, 'prometheus', 'spooky-alerts.yml')], { encoding: 'utf8' });
    assert.match(out, /SUCCESS: \d+ rules found/);
  });

  test('promtool test rules: the alerts fire (and stay quiet) on the synthetic series of spooky-alerts.test.yml', (t) => {
    if (!has('promtool')) {
      t.skip('promtool is not installed (Debian package prometheus)');
      return;
    }
    const run = spawnSync('promtool', ['test', 'rules', join(DEPLOY, 'prometheus', 'spooky-alerts.test.yml')], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.status, 0, `${run.stdout}${run.stderr}`);
    assert.match(run.stdout, /SUCCESS/);
  });

  test('the Grafana dashboard: unique panel ids, every query names only served metrics and labels', () => {
    const files = readdirSync(join(DEPLOY, 'grafana')).filter((f) => f.endsWith('.json'));
    assert.ok(files.length > 0);
    let queries = 0;
    for (const file of files) {
      const dash = JSON.parse(read('grafana', file)) as { uid: string; panels: Record<string, unknown>[]; templating: { list: Record<string, unknown>[] } };
      assert.ok(dash.uid);
      const ids = dash.panels.map((p) => p['id']);
      assert.equal(new Set(ids).size, ids.length, `${file}: panel ids unique`);
      for (const panel of dash.panels) {
        for (const target of (panel['targets'] as { expr: string }[] | undefined) ?? []) {
          checkExpression(`${file} "${String(panel['title'])}"`, target.expr);
          queries++;
        }
      }
      for (const variable of dash.templating.list.filter((v) => v['type'] === 'query')) {
        const m = /^label_values\((.+), *(\w+)\)$/.exec(String(variable['definition']));
        assert.ok(m, `variable ${String(variable['name'])} is label_values(selector, label)`);
        checkExpression(`${file} variable ${String(variable['name'])}`, m[1] as string);
        const family = seriesToFamily.get(promqlNames(m[1] as string).selectors[0]?.metric ?? '');
        assert.ok(family?.labels.has(m[2] as string) || TARGET_LABELS.has(m[2] as string), `label ${m[2]} exists`);
      }
    }
    assert.ok(queries >= 30, `${queries} queries checked`);
  });
});
