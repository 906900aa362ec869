/**
 * deploy/docker: the Dockerfile's stages and instructions, the compose file's references, and its
 * `pki` service run for real (the identities it issues are the ones the data plane commands use).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { parseConfigText } from '@spooky/config';
import { parseSettings } from '../../controlplane/src/settings/settings.ts';
import { parseFlags } from '../../dataplane/src/bootstrap/flags.ts';
import { parseDockerfile, parseEnvFile, type Stage, sansOf, yamlDocuments } from './harness/deploy-manifests.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const DEPLOY = join(ROOT, 'deploy');
const read = (...parts: string[]): string => readFileSync(join(DEPLOY, ...parts), 'utf8');

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
