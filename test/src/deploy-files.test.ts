/**
 * deploy/ is loaded and checked, not just stored:
 * - systemd: the units pass `systemd-analyze verify` (when installed) and their hardening keys are
 *   there; the example env files, expanded as systemd would, are flags and env the planes' own
 *   parsers accept (mutual TLS on both sides);
 * - prometheus + grafana: every rule has a `for:`, a severity and a runbook anchor that exists in
 *   docs/operations.md; `promtool check rules` when installed; and every metric name (and, where the
 *   family has samples, every label name) in a rule or a panel is one that a real control plane
 *   and a real data plane, started here with traffic through them, serve on /metrics;
 * - docker + kubernetes: (below).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { parseFlags } from '../../dataplane/src/bootstrap/flags.ts';
import { parseSettings } from '../../controlplane/src/settings/settings.ts';
import { type CertFiles, ensureSelfSignedCert } from './harness/certs.ts';
import { freePort } from './harness/free-port.ts';
import { type Origin, startH1Origin } from './harness/origins.ts';
import { ControlPlane, DataPlane } from './harness/planes.ts';
import { type Family, parseExposition, promqlNames } from './harness/promql-names.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const DEPLOY = join(ROOT, 'deploy');
const read = (...parts: string[]): string => readFileSync(join(DEPLOY, ...parts), 'utf8');
const has = (command: string): boolean => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;

/** `KEY=VALUE` lines of an env file (comments and blanks skipped). */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) env[m[1] as string] = m[2] as string;
  }
  return env;
}

/** The [Section] Key=value pairs of a unit file; repeated keys keep every value. */
function parseUnit(text: string): Map<string, string[]> {
  const keys = new Map<string, string[]>();
  let section = '';
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const head = /^\[(\w+)\]$/.exec(line);
    if (head) {
      section = head[1] as string;
      continue;
    }
    const kv = /^(\w+)=(.*)$/.exec(line);
    assert.ok(kv, `unit line is Key=value: ${line}`);
    const key = `${section}.${kv[1]}`;
    keys.set(key, [...(keys.get(key) ?? []), kv[2] as string]);
  }
  return keys;
}

/** ExecStart's words after systemd's expansion: `${X}` is one word, `$X` split at whitespace, `%H` the host. */
function expandExecStart(line: string, env: Record<string, string>): string[] {
  return line.split(/\s+/).flatMap((word) => {
    const braced = /^\$\{(\w+)\}$/.exec(word);
    if (braced) return [env[braced[1] as string] ?? ''];
    const bare = /^\$(\w+)$/.exec(word);
    if (bare) return (env[bare[1] as string] ?? '').split(/\s+/).filter((w) => w !== '');
    return [word.replaceAll('%H', 'edge-1')];
  });
}

/** GitHub's heading anchors of a Markdown file. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const m of markdown.matchAll(/^#{1,6} (.+)$/gm)) {
    anchors.add((m[1] as string).trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-'));
  }
  return anchors;
}

describe('deploy/systemd', () => {
  const units = ['spooky-controlplane.service', 'spooky-dataplane.service'];

  test('the units carry the environment file, the spooky user and the hardening options', () => {
    for (const unit of units) {
      const keys = parseUnit(read('systemd', unit));
      for (const key of ['Service.User', 'Service.EnvironmentFile', 'Service.ExecStart', 'Service.ProtectSystem', 'Service.NoNewPrivileges', 'Service.UMask']) {
        assert.ok(keys.has(key), `${unit} sets ${key}`);
      }
      assert.deepEqual(keys.get('Service.User'), ['spooky']);
      assert.deepEqual(keys.get('Service.ProtectSystem'), ['strict']);
      assert.match(keys.get('Service.EnvironmentFile')?.[0] ?? '', /^\/etc\/spooky\/(controlplane|dataplane)\.env$/);
      assert.equal(keys.has('Service.MemoryDenyWriteExecute'), false, 'V8 needs W+X pages');
    }
    assert.deepEqual(parseUnit(read('systemd', units[0] as string)).get('Service.StateDirectory'), ['spooky']);
    assert.deepEqual(parseUnit(read('systemd', units[1] as string)).get('Service.CacheDirectory'), ['spooky']);
  });

  test('systemd-analyze verify accepts both units (with this Node in place of /opt/spooky/.tooling/bin/node)', (t) => {
    if (!has('systemd-analyze')) {
      t.skip('systemd-analyze is not installed; the unit files were only parsed');
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'spooky-units-'));
    try {
      for (const unit of units) {
        writeFileSync(join(dir, unit), read('systemd', unit).replaceAll('/opt/spooky/.tooling/bin/node', process.execPath));
      }
      const run = spawnSync('systemd-analyze', ['verify', ...units.map((u) => join(dir, u))], { encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stderr.trim(), '', 'no warning (an unknown key or a bad value is only a warning)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the control plane accepts controlplane.env as its whole configuration: REST over TLS, gRPC over mutual TLS', () => {
    const env = parseEnvFile(read('systemd', 'controlplane.env'));
    const unit = parseUnit(read('systemd', 'spooky-controlplane.service'));
    const args = expandExecStart(unit.get('Service.ExecStart')?.[0] ?? '', env).slice(2);
    const settings = parseSettings(args, env);
    assert.equal(settings.http.host, '0.0.0.0', 'reachable from other hosts');
    assert.equal(settings.grpc.host, '0.0.0.0');
    assert.ok(settings.httpTls, 'REST over TLS');
    assert.ok(settings.grpcTls, 'gRPC over mutual TLS');
    assert.equal(settings.allowInsecureGrpc, false);
    assert.equal(settings.allowInsecureHttp, false);
    assert.match(settings.dbPath, /^\/var\/lib\/spooky\//, 'the store is in StateDirectory');
  });

  test('the data plane accepts the flags its unit expands from dataplane.env: a remote control plane over mutual TLS', () => {
    const env = { SPOOKY_DP_NODE_ID: 'edge-1', SPOOKY_DP_EXTRA_ARGS: '', ...parseEnvFile(read('systemd', 'dataplane.env')) };
    const unit = parseUnit(read('systemd', 'spooky-dataplane.service'));
    const words = expandExecStart(unit.get('Service.ExecStart')?.[0] ?? '', env);
    assert.deepEqual(words.slice(1, 2), ['dataplane/src/main.ts']);
    for (const extra of ['', '--label zone=a --workers 4 --cache-max-age 24h --log-level info']) {
      const result = parseFlags(expandExecStart(unit.get('Service.ExecStart')?.[0] ?? '', { ...env, SPOOKY_DP_EXTRA_ARGS: extra }).slice(2), 2, env);
      assert.ok(result.ok, result.ok ? '' : result.error);
      assert.equal(result.settings.mode, 'control-plane');
      if (result.settings.mode !== 'control-plane') return;
      assert.equal(result.settings.controlPlane, 'cp.internal:8090');
      assert.equal(result.settings.cacheDir, '/var/cache/spooky', 'the cache is in CacheDirectory');
      assert.ok(result.settings.controlTls, 'mutual TLS from SPOOKY_DP_CA_FILE/CERT/KEY');
    }
  });
});

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

  test('the scrape found both planes: spooky_cp_* and spooky_* families, with samples', () => {
    assert.ok(seriesToFamily.has('spooky_cp_http_requests_total'));
    assert.ok(seriesToFamily.get('spooky_requests_total')?.labels.has('status_class'));
    assert.ok(seriesToFamily.get('spooky_generation_info')?.labels.has('seq'));
    assert.ok(seriesToFamily.get('spooky_backend_healthy')?.labels.has('upstream'));
  });

  test('the check itself refuses a misspelt metric, a label the family lacks and a grouping label no metric has', () => {
    assert.throws(() => checkExpression('probe', 'rate(spooky_request_total[5m])'), /spooky_request_total is served/);
    assert.throws(() => checkExpression('probe', 'sum(rate(spooky_requests_total{status="5xx"}[5m]))'), /has label status/);
    assert.throws(() => checkExpression('probe', 'sum by (route) (rate(spooky_requests_total[5m]))'), /grouping label route/);
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
  });

  test('promtool check rules accepts the rules file', (t) => {
    if (!has('promtool')) {
      t.skip('promtool is not installed (Debian package prometheus); the rules were parsed and their metric names checked instead');
      return;
    }
    const out = execFileSync('promtool', ['check', 'rules', join(DEPLOY, 'prometheus', 'spooky-alerts.yml')], { encoding: 'utf8' });
    assert.match(out, /SUCCESS: \d+ rules found/);
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
