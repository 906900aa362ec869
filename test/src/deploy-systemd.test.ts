/**
 * deploy/systemd is loaded and checked, not just stored: the units pass `systemd-analyze verify`
 * (when installed) and their hardening keys are there; the example env files, expanded as
 * systemd would, are flags and env the planes' own parsers accept (mutual TLS on both sides).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseSettings } from '../../controlplane/src/settings/settings.ts';
import { parseFlags } from '../../dataplane/src/bootstrap/flags.ts';
import { expandExecStart, parseEnvFile, parseUnit } from './harness/deploy-manifests.ts';

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
