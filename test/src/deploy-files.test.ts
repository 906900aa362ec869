/**
 * deploy/ is loaded and checked, not just stored:
 * - systemd: the units pass `systemd-analyze verify` (when installed) and their hardening keys are
 *   there; the example env files, expanded as systemd would, are flags and env the planes' own
 *   parsers accept (mutual TLS on both sides);
 * - prometheus + grafana: every rule has a `for:`, a severity and a runbook anchor that exists in
 *   docs/operations.md; `promtool check rules` and `promtool test rules` when installed; and every
 *   metric name (and, where the family has samples, every label name) in a rule, a rule test or a
 *   panel is one that a real control plane and a real data plane, started here with a request
 *   through them, serve on /metrics;
 * - docker: the Dockerfile's stages and instructions, the health script against real planes, the
 *   compose file's references, and its `pki` service run for real (the identities it issues are
 *   the ones the data plane commands use); opt-in, the image built and the compose file run with
 *   podman (harness/podman-compose.ts);
 * - kubernetes: the Kustomize tree's references, `make-pki.sh` run for real, and the containers'
 *   args and env through the planes' parsers, naming certificates that carry those identities.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { parseFlags } from '../../dataplane/src/bootstrap/flags.ts';
import { parseSettings } from '../../controlplane/src/settings/settings.ts';
import { type CertFiles, ensureSelfSignedCert } from './harness/certs.ts';
import { freePort } from './harness/free-port.ts';
import { type Origin, startH1Origin } from './harness/origins.ts';
import { ControlPlane, DataPlane } from './harness/planes.ts';
import { PodmanCompose } from './harness/podman-compose.ts';
import { parseConfigText } from '@spooky/config';
import {
  anchorsOf,
  expandExecStart,
  expandKubeVars,
  loadKustomization,
  parseDockerfile,
  parseEnvFile,
  parseUnit,
  sansOf,
  type Stage,
  yamlDocuments,
} from './harness/deploy-manifests.ts';
import { type Family, parseExposition, promqlNames } from './harness/promql-names.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const DEPLOY = join(ROOT, 'deploy');
const read = (...parts: string[]): string => readFileSync(join(DEPLOY, ...parts), 'utf8');
const has = (command: string): boolean => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;

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

describe('deploy/docker', () => {
  const stages = parseDockerfile(read('docker', 'Dockerfile'));
  const stage = (name: string): Stage => {
    const found = stages.find((s) => s.name === name);
    assert.ok(found, `stage ${name}`);
    return found;
  };
  const ops = (s: Stage, op: string) => s.instructions.filter((i) => i.op === op);
  /** A stage's ENV (KEY=VALUE pairs; no value here has a space). */
  const imageEnv = (s: Stage): Record<string, string> => parseEnvFile(ops(s, 'ENV').flatMap((e) => e.args.split(/\s+/)).join('\n'));

  test('Dockerfile: multi-stage on node:24-bookworm-slim, production dependencies only, a non-root user', () => {
    assert.deepEqual(stages.map((s) => s.name), ['build', 'runtime', 'controlplane', 'dataplane']);
    assert.equal(stage('build').base, 'node:24-bookworm-slim');
    assert.equal(stage('runtime').base, 'node:24-bookworm-slim');
    assert.equal(stage('controlplane').base, 'runtime');
    assert.equal(stage('dataplane').base, 'runtime');
    assert.ok(ops(stage('build'), 'RUN').some((r) => /npm ci --omit=dev/.test(r.args)), 'npm ci --omit=dev');
    const copiesFromBuild = ops(stage('runtime'), 'COPY').filter((c) => c.args.startsWith('--from='));
    assert.ok(copiesFromBuild.length > 0 && copiesFromBuild.every((c) => c.args.startsWith('--from=build ')), 'runtime copies only from build');
    assert.deepEqual(ops(stage('runtime'), 'USER').map((u) => u.args), ['spooky:spooky']);
    for (const target of ['controlplane', 'dataplane']) assert.equal(ops(stage(target), 'USER').length, 0, `${target} keeps the non-root user`);
  });

  test('Dockerfile: every COPY source exists in the repository and is not ignored', () => {
    const ignore = read('docker', 'Dockerfile.dockerignore');
    assert.match(ignore, /^\*\*\/node_modules$/m, 'the host node_modules is never sent');
    for (const s of stages) {
      for (const copy of ops(s, 'COPY').filter((c) => !c.args.startsWith('--from='))) {
        const sources = copy.args.split(/\s+/).slice(0, -1);
        for (const source of sources) assert.ok(existsSync(join(ROOT, source)), `line ${copy.line}: ${source} exists`);
      }
    }
  });

  test('Dockerfile: each entry point has a HEALTHCHECK with the health script, and starts a real main', () => {
    for (const [target, main, url] of [
      ['controlplane', 'controlplane/src/main.ts', 'https://127.0.0.1:8443/readyz'],
      ['dataplane', 'dataplane/src/main.ts', 'http://127.0.0.1:9901/ready'],
    ] as const) {
      const [health] = ops(stage(target), 'HEALTHCHECK');
      assert.ok(health, `${target} HEALTHCHECK`);
      assert.match(health.args, /--interval=\d+s --timeout=\d+s .*CMD \["node", "deploy\/docker\/healthcheck\.mjs"\]$/);
      const entry = JSON.parse(ops(stage(target), 'ENTRYPOINT')[0]?.args ?? '[]') as string[];
      assert.deepEqual(entry, ['node', main]);
      assert.ok(existsSync(join(ROOT, main)));
      assert.ok(ops(stage(target), 'ENV').some((e) => e.args.includes(`SPOOKY_HEALTH_URL=${url}`)), `${target} checks ${url}`);
    }
    // The control plane's image ENV alone is a valid start once TLS files are given (the compose file does).
    assert.throws(() => parseSettings([], imageEnv(stage('controlplane'))), /not loopback/, 'without TLS files the image refuses to serve plaintext on 0.0.0.0');
  });

  const compose = yamlDocuments(join(DEPLOY, 'docker', 'docker-compose.yml'))[0] as {
    services: Record<string, Record<string, unknown>>;
    volumes: Record<string, unknown>;
  };

  test('docker-compose.yml: services, build targets, dependencies, volumes and loopback-only ports are consistent', () => {
    assert.deepEqual(Object.keys(compose.services).sort(), ['controlplane', 'dataplane-1', 'dataplane-2', 'origin', 'pki', 'seed']);
    for (const [name, service] of Object.entries(compose.services)) {
      const build = service['build'] as { context: string; dockerfile: string; target: string };
      assert.equal(resolve(DEPLOY, 'docker', build.context), ROOT, `${name}: context is the repository root`);
      assert.ok(existsSync(join(ROOT, build.dockerfile)), `${name}: dockerfile`);
      assert.ok(stages.some((s) => s.name === build.target), `${name}: target ${build.target} is a stage`);
      for (const [dep, cond] of Object.entries((service['depends_on'] as Record<string, { condition: string }> | undefined) ?? {})) {
        assert.ok(compose.services[dep], `${name} depends on ${dep}`);
        assert.ok(['service_started', 'service_healthy', 'service_completed_successfully'].includes(cond.condition));
        if (cond.condition === 'service_healthy') {
          const target = ((compose.services[dep]?.['build'] ?? {}) as { target?: string }).target ?? '';
          assert.ok(compose.services[dep]?.['healthcheck'] || ops(stage(target), 'HEALTHCHECK').length > 0, `${dep} has a health check`);
        }
      }
      for (const volume of (service['volumes'] as string[] | undefined) ?? []) {
        const [source] = volume.split(':');
        if (source?.startsWith('.')) assert.ok(existsSync(resolve(DEPLOY, 'docker', source)), `${name}: bind source ${source}`);
        else assert.ok(source && source in compose.volumes, `${name}: volume ${source} is declared`);
      }
      for (const port of (service['ports'] as string[] | undefined) ?? []) assert.match(port, /^127\.0\.0\.1:\d+:\d+\/(tcp|udp)$/, `${name}: ${port} on loopback`);
    }
  });

  test('docker-compose.yml: the pki service really issues the certificates and token the planes are given, with matching identities', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spooky-compose-pki-'));
    try {
      const pki = compose.services['pki'] as { command: string[] };
      const script = (pki.command[0] as string).replaceAll('$$', '$').replaceAll('/etc/spooky/pki', dir).replaceAll('/opt/spooky', ROOT);
      const path = `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}`;
      for (let run = 0; run < 2; run++) {
        const out = spawnSync('sh', ['-ec', script], { env: { PATH: path }, encoding: 'utf8', timeout: 60_000 });
        assert.equal(out.status, 0, `run ${run}: ${out.stderr}`);
        assert.equal(out.stdout.trim(), `pki ready in ${dir}`, 'prints no token, no key; a second run keeps what exists');
      }
      assert.equal(statSync(join(dir, 'admin-token.json')).mode & 0o077, 0, 'the token file is private');
      const mount = (p: string) => p.replace('/etc/spooky/pki', dir);
      const cpEnv = compose.services['controlplane']?.['environment'] as Record<string, string>;
      const settings = parseSettings([], Object.fromEntries(Object.entries({ ...imageEnv(stage('controlplane')), ...cpEnv }).map(([k, v]) => [k, mount(v)])));
      assert.ok(settings.grpcTls && settings.httpTls);
      for (const file of [settings.grpcTls.certFile, settings.grpcTls.keyFile, settings.grpcTls.clientCaFile, settings.tokensFile]) assert.ok(existsSync(file), file);
      for (const name of ['dataplane-1', 'dataplane-2']) {
        const service = compose.services[name] as { command: string[]; environment: Record<string, string> };
        const env = Object.fromEntries(Object.entries(service.environment).map(([k, v]) => [k, mount(v)]));
        const flags = parseFlags(service.command, 2, env);
        assert.ok(flags.ok && flags.settings.mode === 'control-plane', flags.ok ? '' : flags.error);
        if (flags.settings.mode !== 'control-plane' || !flags.settings.controlTls) throw new Error('mutual TLS expected');
        const cpHost = flags.settings.controlPlane.split(':')[0] as string;
        assert.ok(compose.services[cpHost], `--control-plane ${cpHost} is a service name`);
        assert.match(sansOf(settings.grpcTls.certFile), new RegExp(`DNS:${cpHost}(,|$)`), 'the control plane certificate names the host data planes dial');
        assert.equal(sansOf(flags.settings.controlTls.certFile), `URI:spiffe://spooky/scope/${flags.settings.scope}/node/${flags.settings.nodeId}`);
      }
      const config = parseConfigText(read('docker', 'spooky.yaml'));
      assert.ok(config.ok, JSON.stringify(config));
      const listenerCert = /cert: (\S+)/.exec(read('docker', 'spooky.yaml'))?.[1] ?? '';
      assert.ok(existsSync(mount(listenerCert)), `the listener certificate ${listenerCert} is issued by pki`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('deploy/kubernetes', () => {
  const base = join(DEPLOY, 'kubernetes', 'base');
  const dev = join(DEPLOY, 'kubernetes', 'overlays', 'dev');
  const tree = loadKustomization(dev);
  // biome-ignore lint/suspicious/noExplicitAny: manifests are untyped YAML; each property read is asserted on.
  type Doc = Record<string, any>;
  const docs = tree.resources as Doc[];
  const byKind = (kind: string) => docs.filter((d) => d['kind'] === kind);
  const named = (kind: string, name: string) => byKind(kind).find((d) => d['metadata']?.['name'] === name);
  const workloads = () => byKind('StatefulSet');

  test('every resource has apiVersion, kind and a name; the dev overlay includes the base and a namespace', () => {
    assert.ok(tree.kustomizations.some((k) => k.dir === base));
    for (const doc of docs) assert.ok(doc['apiVersion'] && doc['kind'] && doc['metadata']?.['name'], JSON.stringify(doc).slice(0, 80));
    const ns = tree.kustomizations.find((k) => k.dir === dev)?.doc['namespace'];
    assert.ok(named('Namespace', String(ns)), `namespace ${ns} is created`);
    assert.ok(named('StatefulSet', 'spooky-controlplane')?.spec.volumeClaimTemplates?.length === 1, 'the control plane has a PVC for SQLite');
    assert.equal(named('StatefulSet', 'spooky-controlplane')?.spec.replicas, 1);
    assert.ok(named('PodDisruptionBudget', 'spooky-dataplane'));
  });

  test('selectors, Services, ports, probes, mounts, ConfigMaps and Secrets all refer to things that exist', () => {
    const configMaps = new Set(tree.generated.filter((g) => g.kind === 'ConfigMap').map((g) => g.name));
    const secrets = new Set(tree.generated.filter((g) => g.kind === 'Secret').map((g) => g.name));
    // ConfigMaps read committed files; the Secrets' files are what make-pki.sh writes (checked below).
    for (const gen of tree.generated.filter((g) => g.kind === 'ConfigMap')) {
      for (const [key, file] of gen.files) assert.ok(existsSync(file), `${gen.name}: ${key} from ${file}`);
    }
    for (const w of workloads()) {
      const name = w['metadata'].name as string;
      const labels = w['spec'].template.metadata.labels as Record<string, string>;
      for (const [k, v] of Object.entries(w['spec'].selector.matchLabels as Record<string, string>)) assert.equal(labels[k], v, `${name}: selector matches the pod labels`);
      const governing = named('Service', w['spec'].serviceName);
      assert.equal(governing?.['spec'].clusterIP, 'None', `${name}: serviceName is a headless Service`);
      const pod = w['spec'].template.spec;
      const volumes = new Set<string>([...pod.volumes.map((v: Doc) => v['name']), ...(w['spec'].volumeClaimTemplates ?? []).map((t: Doc) => t['metadata'].name)]);
      for (const v of pod.volumes as Doc[]) {
        if (v['secret']) assert.ok(secrets.has(v['secret'].secretName), `${name}: Secret ${v['secret'].secretName} is generated`);
        if (v['configMap']) assert.ok(configMaps.has(v['configMap'].name), `${name}: ConfigMap ${v['configMap'].name}`);
      }
      for (const c of pod.containers as Doc[]) {
        for (const m of c['volumeMounts'] as Doc[]) assert.ok(volumes.has(m['name']), `${name}: mount ${m['name']} is a volume`);
        for (const e of (c['envFrom'] ?? []) as Doc[]) assert.ok(configMaps.has(e['configMapRef'].name), `${name}: envFrom ${e['configMapRef'].name}`);
        const ports = new Set((c['ports'] as Doc[]).map((p) => p['name']));
        for (const probe of [c['livenessProbe'], c['readinessProbe']]) assert.ok(probe && ports.has(probe.httpGet.port), `${name}: probe on a named port`);
        assert.equal(c['securityContext'].allowPrivilegeEscalation, false);
        assert.equal(pod.securityContext.runAsNonRoot, true);
      }
    }
    for (const svc of byKind('Service')) {
      const selected = workloads().filter((w) => Object.entries(svc['spec'].selector).every(([k, v]) => w['spec'].template.metadata.labels[k] === v));
      assert.equal(selected.length, 1, `Service ${svc['metadata'].name} selects one workload`);
      const ports = (selected[0]?.['spec'].template.spec.containers[0].ports ?? []) as Doc[];
      for (const p of svc['spec'].ports as Doc[]) {
        assert.ok(ports.some((cp) => cp['name'] === p['targetPort'] && cp['protocol'] === p['protocol']), `Service ${svc['metadata'].name}: ${p['targetPort']}/${p['protocol']}`);
      }
    }
    const dpService = named('Service', 'spooky-dataplane');
    assert.deepEqual(((dpService?.['spec'].ports ?? []) as Doc[]).map((p) => p['protocol']).sort(), ['TCP', 'UDP']);
    const pdb = named('PodDisruptionBudget', 'spooky-dataplane');
    assert.equal(pdb?.['spec'].selector.matchLabels['app.kubernetes.io/name'], 'spooky-dataplane');
  });

  test('data plane: /live and /ready probes, a preStop delay and a grace period longer than preStop + drain + 10 s', () => {
    const pod = named('StatefulSet', 'spooky-dataplane')?.['spec'].template.spec;
    const c = pod.containers[0];
    assert.equal(c.livenessProbe.httpGet.path, '/live');
    assert.equal(c.readinessProbe.httpGet.path, '/ready');
    const preStop = Number(c.lifecycle.preStop.exec.command[1]);
    const drainS = Number(c.args[c.args.indexOf('--drain-timeout-ms') + 1]) / 1000;
    assert.ok(pod.terminationGracePeriodSeconds >= preStop + drainS + 10, `${pod.terminationGracePeriodSeconds} s >= ${preStop} + ${drainS} + 10`);
  });

  test('make-pki.sh issues every file the Secrets read; the container args and env are accepted by the planes and name those certificates', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spooky-k8s-pki-'));
    try {
      const out = spawnSync('sh', [join(dev, 'make-pki.sh'), dir], { env: { PATH: `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}` }, encoding: 'utf8', timeout: 60_000 });
      assert.equal(out.status, 0, out.stderr);
      assert.equal(out.stdout.trim(), `pki and tokens in ${dir}`);
      const secretFile = (secret: string, key: string): string => {
        const file = tree.generated.find((g) => g.name === secret)?.files.get(key);
        assert.ok(file, `${secret} has ${key}`);
        return join(dir, file.slice(file.indexOf('/pki/') + 5));
      };
      for (const gen of tree.generated.filter((g) => g.kind === 'Secret')) for (const key of gen.files.keys()) assert.ok(existsSync(secretFile(gen.name, key)), `${gen.name}/${key}`);
      // Mounted Secret files: mountPath/key → the file make-pki.sh wrote.
      const mounted = (pod: Doc, c: Doc, path: string): string => {
        const m = (c['volumeMounts'] as Doc[]).find((vm) => path.startsWith(`${vm['mountPath']}/`));
        const volume = (pod['volumes'] as Doc[]).find((v) => v['name'] === m?.['name']);
        assert.ok(volume?.['secret'], `${path} is in a Secret mount`);
        return secretFile(volume['secret'].secretName, path.slice(String(m?.['mountPath']).length + 1));
      };
      const cpPod = named('StatefulSet', 'spooky-controlplane')?.['spec'].template.spec;
      const cpEnv = parseEnvFile(readFileSync(join(base, 'controlplane.env'), 'utf8'));
      const cp = parseSettings(cpPod.containers[0].args ?? [], cpEnv);
      assert.ok(cp.grpcTls && cp.httpTls, 'REST over TLS and gRPC over mutual TLS');
      const cpCert = mounted(cpPod, cpPod.containers[0], cp.grpcTls.certFile);
      mounted(cpPod, cpPod.containers[0], cp.tokensFile);
      assert.ok(cp.dbPath.startsWith(`${cpPod.containers[0].volumeMounts.find((m: Doc) => m['name'] === 'data').mountPath}/`), 'the store is on the PVC');

      const dpSet = named('StatefulSet', 'spooky-dataplane');
      const dpPod = dpSet?.['spec'].template.spec;
      const c = dpPod.containers[0];
      for (let ordinal = 0; ordinal < 2; ordinal++) {
        const vars: Record<string, string> = { POD_NAME: `spooky-dataplane-${ordinal}` };
        for (const e of c.env as Doc[]) if (e['value'] !== undefined) vars[e['name']] = expandKubeVars(e['value'], vars);
        const flags = parseFlags((c.args as string[]).map((a) => expandKubeVars(a, vars)), 2, vars);
        assert.ok(flags.ok && flags.settings.mode === 'control-plane', flags.ok ? '' : flags.error);
        if (flags.settings.mode !== 'control-plane' || !flags.settings.controlTls) throw new Error('mutual TLS expected');
        const cpHost = flags.settings.controlPlane.split(':')[0] as string;
        assert.ok(named('Service', cpHost), `--control-plane ${cpHost} is a Service`);
        assert.match(sansOf(cpCert), new RegExp(`DNS:${cpHost}(,|$)`));
        const nodeCert = mounted(dpPod, c, flags.settings.controlTls.certFile);
        mounted(dpPod, c, flags.settings.controlTls.keyFile);
        assert.equal(sansOf(nodeCert), `URI:spiffe://spooky/scope/${flags.settings.scope}/node/spooky-dataplane-${ordinal}`);
      }
      const yaml = readFileSync(join(dev, 'spooky.yaml'), 'utf8');
      const config = parseConfigText(yaml);
      assert.ok(config.ok, JSON.stringify(config));
      const listenerCert = /cert: (\S+)/.exec(yaml)?.[1] ?? '';
      assert.ok(existsSync(mounted(dpPod, c, listenerCert)), `the generation's listener certificate ${listenerCert} is mounted`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('deploy/docker built and run with podman (opt-in: SPOOKY_TEST_CONTAINERS=1)', () => {
  // Opt-in: building the images takes minutes of the two shared cores, and needs the base image
  // node:24-bookworm-slim already present (nothing is pulled). The podman options this machine
  // needs are in podman-compose.ts.
  const enabled = process.env['SPOOKY_TEST_CONTAINERS'] === '1' && has('podman')
    && spawnSync('podman', [...(process.env['SPOOKY_PODMAN_OPTS'] ?? '').split(/\s+/).filter(Boolean), 'image', 'exists', 'node:24-bookworm-slim']).status === 0;
  const compose = new PodmanCompose(join(DEPLOY, 'docker', 'docker-compose.yml'), `spooky-e2e-${process.pid}`);

  test('the images build and the compose services come up: two data planes serve the origin over TLS, connected over mutual TLS', { timeout: 900_000 }, (t) => {
    if (!enabled) {
      t.skip('set SPOOKY_TEST_CONTAINERS=1 with podman and a local node:24-bookworm-slim image');
      return;
    }
    try {
      compose.build();
      compose.up();
      const ca = { SPOOKY_CA_FILE: '/etc/spooky/pki/ca.crt' };
      for (const dp of ['dataplane-1', 'dataplane-2']) {
        compose.waitHealthy(dp);
        const get = `require('node:https').get({host: '${dp}', port: 9443, path: '/through', servername: 'localhost', ca: require('node:fs').readFileSync(process.env.SPOOKY_CA_FILE)},
          (r) => { let b = ''; r.on('data', (d) => (b += d)); r.on('end', () => console.log(r.statusCode, b.trim())); }).on('error', (e) => console.log(e.message))`;
        const out = compose.runOnce('runtime', ['pki:/etc/spooky/pki:ro'], ca, ['node', '-e'], [get]);
        assert.equal(out.stdout.trim(), '200 hello from the demo origin: /through', `${dp}: ${out.stderr}`);
      }
      const nodes = compose.runOnce('runtime', ['pki:/etc/spooky/pki:ro'], { ...ca, SPOOKY_SERVER: 'https://controlplane:8443', SPOOKY_SCOPE: 'default' }, ['sh', '-ec'],
        ['export SPOOKY_TOKEN="$(node -p "require(\'/etc/spooky/pki/admin-token.json\').token")"; node controlplane/src/cli/spookyctl.ts nodes --json']);
      const list = JSON.parse(nodes.stdout) as { nodeId?: string; id?: string; state: string }[] | { items: { nodeId?: string; id?: string; state: string }[] };
      const items = Array.isArray(list) ? list : list.items;
      assert.deepEqual(items.map((n) => `${n.nodeId ?? n.id} ${n.state}`).sort(), ['edge-1 connected', 'edge-2 connected']);
      const token = compose.runOnce('runtime', ['pki:/p:ro'], {}, ['node', '-p'], ["require('/p/admin-token.json').token"]).stdout.trim();
      assert.ok(token.length > 20);
      for (const service of Object.keys(compose.services)) assert.equal(compose.logs(service).includes(token), false, `no token in the ${service} log`);
      assert.equal(compose.podman(['stop', '-t', '30', compose.container('dataplane-1')]).status, 0);
      assert.equal(compose.podman(['inspect', '--format', '{{.State.ExitCode}}', compose.container('dataplane-1')]).stdout.trim(), '0', 'SIGTERM drains and exits 0');
    } finally {
      compose.down();
    }
  });
});
