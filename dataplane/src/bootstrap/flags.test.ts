import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDurationMs, parseFlags, parseHostPort } from './flags.ts';

const cp = ['--control-plane', '127.0.0.1:7000', '--node-id', 'n1', '--scope', 'prod-eu', '--cache-dir', '/tmp/c', '--admin', '127.0.0.1:0'];

describe('parseFlags', () => {
  it('reads control-plane mode with labels and defaults', () => {
    const r = parseFlags([...cp, '--label', 'zone=a', '--label', 'tier=edge=1'], 6);
    assert.ok(r.ok);
    assert.deepEqual(r.settings, {
      mode: 'control-plane',
      controlPlane: '127.0.0.1:7000',
      nodeId: 'n1',
      scope: 'prod-eu',
      cacheDir: '/tmp/c',
      labels: { zone: 'a', tier: 'edge=1' },
      admin: { host: '127.0.0.1', port: 0 },
      logLevel: 'info',
      logLevelFromFlag: false,
      drainTimeoutMs: 5000,
      drainTimeoutFromFlag: false,
      cacheGraceMs: 2000,
      cacheMaxAgeMs: 86_400_000,
      controlTls: null,
      maxGenerationBytes: 1024 * 1048576,
      supervise: true,
      workers: 6,
    });
  });

  it('reads the generation memory budget and --no-supervise in both modes', () => {
    const r = parseFlags([...cp, '--max-generation-memory-mb', '64', '--no-supervise']);
    assert.ok(r.ok);
    assert.equal(r.settings.maxGenerationBytes, 64 * 1048576);
    assert.equal(r.settings.supervise, false);
    const s = parseFlags(['--config', 'x.yaml', '--admin', '127.0.0.1:0', '--max-generation-memory-mb', '1']);
    assert.ok(s.ok);
    assert.equal(s.settings.maxGenerationBytes, 1048576);
    assert.equal(s.settings.supervise, true);
  });

  it('--drain-timeout-ms, when given, wins over the generation (drainTimeoutFromFlag)', () => {
    const r = parseFlags([...cp, '--drain-timeout-ms', '1500'], 6);
    assert.ok(r.ok);
    assert.equal(r.settings.drainTimeoutMs, 1500);
    assert.equal(r.settings.drainTimeoutFromFlag, true);
    const d = parseFlags(cp, 6);
    assert.ok(d.ok);
    assert.deepEqual([d.settings.drainTimeoutMs, d.settings.drainTimeoutFromFlag], [5000, false]);
    assert.equal(parseFlags([...cp, '--drain-timeout-ms', '-1'], 6).ok, false);
  });

  it('reads the cache grace and max age', () => {
    const r = parseFlags([...cp, '--cache-grace-ms', '0', '--cache-max-age', '30s']);
    assert.ok(r.ok && r.settings.mode === 'control-plane');
    assert.equal(r.settings.cacheGraceMs, 0);
    assert.equal(r.settings.cacheMaxAgeMs, 30_000);
  });

  it('reads standalone mode', () => {
    const r = parseFlags(['--config', 'x.yaml', '--admin', '[::1]:9901', '--log-level', 'debug', '--workers', '3'], 6);
    assert.ok(r.ok);
    assert.deepEqual(r.settings, {
      mode: 'standalone',
      configFile: 'x.yaml',
      admin: { host: '::1', port: 9901 },
      logLevel: 'debug',
      logLevelFromFlag: true,
      drainTimeoutMs: 5000,
      drainTimeoutFromFlag: false,
      maxGenerationBytes: 1024 * 1048576,
      supervise: true,
      workers: 3,
    });
  });

  it('--workers defaults to the cores; --no-supervise means one process', () => {
    const r = parseFlags(cp, 2);
    assert.ok(r.ok && r.settings.workers === 2);
    const n = parseFlags([...cp, '--no-supervise'], 8);
    assert.ok(n.ok && n.settings.workers === 1 && !n.settings.supervise);
    const one = parseFlags([...cp, '--no-supervise', '--workers', '1'], 8);
    assert.ok(one.ok && one.settings.workers === 1);
  });

  for (const [name, argv, pattern] of [
    ['missing admin', ['--config', 'x'], /--admin HOST:PORT is required/],
    ['bad admin', ['--config', 'x', '--admin', 'host'], /--admin: expected HOST:PORT/],
    ['unknown flag', ['--admin', '127.0.0.1:1', '--bogus'], /bogus/],
    ['missing control-plane flags', ['--admin', '127.0.0.1:1', '--scope', 's'], /missing --control-plane, --node-id, --cache-dir/],
    ['config mixed with control-plane', ['--config', 'x', ...cp], /cannot be combined/],
    ['bad label', [...cp, '--label', 'novalue'], /--label/],
    ['duplicate label', [...cp, '--label', 'a=1', '--label', 'a=2'], /given twice/],
    ['bad log level', [...cp, '--log-level', 'loud'], /--log-level/],
    ['bad cache max age', [...cp, '--cache-max-age', '24'], /--cache-max-age/],
    ['bad cache grace', [...cp, '--cache-grace-ms', '-1'], /--cache-grace-ms/],
    ['zero memory budget', [...cp, '--max-generation-memory-mb', '0'], /--max-generation-memory-mb: an integer from 1/],
    ['fractional memory budget', [...cp, '--max-generation-memory-mb', '1.5'], /--max-generation-memory-mb/],
    ['zero workers', [...cp, '--workers', '0'], /--workers: an integer from 1 to 1024/],
    ['fractional workers', [...cp, '--workers', '1.5'], /--workers: an integer/],
    ['too many workers', [...cp, '--workers', '1025'], /--workers: an integer/],
    ['workers without supervision', [...cp, '--workers', '2', '--no-supervise'], /cannot be combined with --workers above 1/],
    ['cache flags in standalone mode', ['--config', 'x', '--admin', '127.0.0.1:1', '--cache-max-age', '1h'], /cannot be combined/],
  ] as const) {
    it(`rejects ${name}`, () => {
      const r = parseFlags(argv);
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.error, pattern);
    });
  }
});

describe('parseHostPort', () => {
  it('parses names, IPv4 and bracketed IPv6; refuses the rest', () => {
    assert.deepEqual(parseHostPort('localhost:80'), { host: 'localhost', port: 80 });
    assert.deepEqual(parseHostPort('[::1]:0'), { host: '::1', port: 0 });
    assert.equal(parseHostPort('::1:80'), null);
    assert.equal(parseHostPort('h:65536'), null);
    assert.equal(parseHostPort('h'), null);
  });
});

describe('parseDurationMs', () => {
  it('reads ms, s, m, h, d and refuses the rest', () => {
    assert.equal(parseDurationMs('500ms'), 500);
    assert.equal(parseDurationMs('30s'), 30_000);
    assert.equal(parseDurationMs('10m'), 600_000);
    assert.equal(parseDurationMs('24h'), 86_400_000);
    assert.equal(parseDurationMs('7d'), 604_800_000);
    for (const bad of ['', '0s', '1.5h', '-1s', '10', 'h', '1w', ' 1s']) assert.equal(parseDurationMs(bad), null, bad);
  });
});
