import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DATAPLANE_ENV, DATAPLANE_OPTIONS, parseDurationMs, parseFlags, parseHostPort } from './flags.ts';

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
    ['missing admin', ['--config', 'x'], /--admin HOST:PORT \(or SPOOKY_DP_ADMIN\) is required/],
    ['bad admin', ['--config', 'x', '--admin', 'host'], /--admin: expected HOST:PORT/],
    ['unknown flag', ['--admin', '127.0.0.1:1', '--bogus'], /bogus/],
    ['missing control-plane flags', ['--admin', '127.0.0.1:1', '--scope', 's'], /missing --control-plane \(or SPOOKY_DP_CONTROL_PLANE\), --node-id \(or SPOOKY_DP_NODE_ID\), --cache-dir \(or SPOOKY_DP_CACHE_DIR\)/],
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

/** argv → the same settings as SPOOKY_DP_* variables: `--flag v` → SPOOKY_DP_FLAG=v, a switch → 1, labels comma-joined. */
function asEnv(argv: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const flag = (argv[i] as string).slice(2);
    const name = `SPOOKY_DP_${flag.toUpperCase().replaceAll('-', '_')}`;
    const option = DATAPLANE_OPTIONS[flag as keyof typeof DATAPLANE_OPTIONS];
    if (option.type === 'boolean') env[name] = '1';
    else env[name] = env[name] === undefined ? (argv[++i] as string) : `${env[name]},${argv[++i]}`;
  }
  return env;
}

describe('SPOOKY_DP_* environment fallbacks', () => {
  const tls = ['--ca-file', '/etc/ca.crt', '--cert', '/etc/n.crt', '--key', '/etc/n.key'];
  const everyControlPlaneFlag = [
    ...['--control-plane', 'cp.internal:7000', '--node-id', 'n1', '--scope', 'prod-eu', '--cache-dir', '/tmp/c', '--admin', '127.0.0.1:9901'],
    ...['--label', 'zone=a', '--label', 'tier=edge', '--log-level', 'debug', '--drain-timeout-ms', '1500', '--cache-grace-ms', '0', '--cache-max-age', '30s'],
    ...['--max-generation-memory-mb', '64', '--workers', '3', ...tls],
  ];
  const everyStandaloneFlag = ['--config', 'x.yaml', '--admin', '[::1]:9901', '--log-level', 'warn', '--no-supervise', '--drain-timeout-ms', '0'];

  it('every flag has its variable, SPOOKY_DP_ + the flag name in upper snake case', () => {
    assert.deepEqual(
      DATAPLANE_ENV.map(([flag]) => flag),
      Object.keys(DATAPLANE_OPTIONS),
    );
    for (const [flag, name] of DATAPLANE_ENV) assert.equal(name, `SPOOKY_DP_${flag.toUpperCase().replaceAll('-', '_')}`);
    const covered = new Set([...everyControlPlaneFlag, ...everyStandaloneFlag, '--allow-insecure-grpc'].filter((w) => w.startsWith('--')).map((w) => w.slice(2)));
    assert.deepEqual([...covered].sort(), Object.keys(DATAPLANE_OPTIONS).sort(), 'the cases below cover every flag');
  });

  for (const [mode, argv] of [
    ['control-plane mode, mutual TLS', everyControlPlaneFlag],
    ['standalone mode', everyStandaloneFlag],
    ['plaintext to a remote control plane', [...cp.map((w) => (w === '127.0.0.1:7000' ? 'cp.internal:7000' : w)), '--allow-insecure-grpc']],
  ] as const) {
    it(`reads every flag of ${mode} from the environment alone, to the same settings`, () => {
      const fromFlags = parseFlags(argv, 6);
      const fromEnv = parseFlags([], 6, asEnv(argv));
      assert.ok(fromFlags.ok, fromFlags.ok ? '' : fromFlags.error);
      assert.ok(fromEnv.ok, fromEnv.ok ? '' : fromEnv.error);
      assert.deepEqual(fromEnv.settings, fromFlags.settings);
    });
  }

  it('the flag wins over its variable, whose value is then not even checked', () => {
    const r = parseFlags([...cp, '--workers', '2', '--log-level', 'error'], 6, { SPOOKY_DP_WORKERS: 'many', SPOOKY_DP_LOG_LEVEL: 'warn', SPOOKY_DP_SCOPE: 'other' });
    assert.ok(r.ok, r.ok ? '' : r.error);
    assert.equal(r.settings.workers, 2);
    assert.equal(r.settings.logLevel, 'error');
    assert.ok(r.settings.mode === 'control-plane' && r.settings.scope === 'prod-eu');
    const labels = parseFlags([...cp, '--label', 'zone=b'], 6, { SPOOKY_DP_LABEL: 'zone=a,rack=r1' });
    assert.ok(labels.ok && labels.settings.mode === 'control-plane');
    assert.deepEqual(labels.settings.labels, { zone: 'b' }, 'a --label replaces the whole SPOOKY_DP_LABEL list');
  });

  it('an empty variable is unset; 0 / false switch off; a variable counts as given (it wins over the generation)', () => {
    const r = parseFlags(cp, 6, { SPOOKY_DP_WORKERS: '', SPOOKY_DP_LABEL: ' , ', SPOOKY_DP_NO_SUPERVISE: '0', SPOOKY_DP_ALLOW_INSECURE_GRPC: 'false', SPOOKY_DP_LOG_LEVEL: '' });
    assert.ok(r.ok, r.ok ? '' : r.error);
    assert.deepEqual([r.settings.workers, r.settings.supervise, r.settings.logLevelFromFlag], [6, true, false]);
    const pinned = parseFlags(cp, 6, { SPOOKY_DP_LOG_LEVEL: 'debug', SPOOKY_DP_DRAIN_TIMEOUT_MS: '100' });
    assert.ok(pinned.ok);
    assert.deepEqual([pinned.settings.logLevel, pinned.settings.logLevelFromFlag, pinned.settings.drainTimeoutFromFlag], ['debug', true, true]);
  });

  for (const [name, env, pattern] of [
    ['workers', { SPOOKY_DP_WORKERS: 'abc' }, /^SPOOKY_DP_WORKERS: an integer from 1 to 1024$/],
    ['log level', { SPOOKY_DP_LOG_LEVEL: 'loud' }, /^SPOOKY_DP_LOG_LEVEL: one of /],
    ['admin', { SPOOKY_DP_ADMIN: 'nowhere' }, /^SPOOKY_DP_ADMIN: expected HOST:PORT, got "nowhere"$/],
    ['switch', { SPOOKY_DP_NO_SUPERVISE: 'yes' }, /^SPOOKY_DP_NO_SUPERVISE must be 1, true, 0 or false \(got "yes"\)$/],
    ['label', { SPOOKY_DP_LABEL: 'zone=a,novalue' }, /^SPOOKY_DP_LABEL: expected k=v/],
    ['cache max age', { SPOOKY_DP_CACHE_MAX_AGE: '1y' }, /^SPOOKY_DP_CACHE_MAX_AGE: a duration/],
    ['cache grace', { SPOOKY_DP_CACHE_GRACE_MS: '-5' }, /^SPOOKY_DP_CACHE_GRACE_MS: an integer/],
    ['drain timeout', { SPOOKY_DP_DRAIN_TIMEOUT_MS: 'soon' }, /^SPOOKY_DP_DRAIN_TIMEOUT_MS: an integer/],
    ['memory budget', { SPOOKY_DP_MAX_GENERATION_MEMORY_MB: '0' }, /^SPOOKY_DP_MAX_GENERATION_MEMORY_MB: an integer/],
    ['node id', { SPOOKY_DP_NODE_ID: 'a b' }, /^SPOOKY_DP_NODE_ID: 1-128 characters/],
    ['scope', { SPOOKY_DP_SCOPE: '-' }, /^SPOOKY_DP_SCOPE: 1-128 characters/],
    ['control plane', { SPOOKY_DP_CONTROL_PLANE: 'cp' }, /^SPOOKY_DP_CONTROL_PLANE: expected HOST:PORT/],
    ['workers without supervision', { SPOOKY_DP_WORKERS: '2', SPOOKY_DP_NO_SUPERVISE: 'true' }, /^SPOOKY_DP_NO_SUPERVISE serves in one process: it cannot be combined with SPOOKY_DP_WORKERS above 1$/],
  ] as const) {
    it(`a bad ${name} variable is an error naming it`, () => {
      const argv = cp.filter((_, i) => !Object.keys(env).some((n) => n === `SPOOKY_DP_${(cp[i - (i % 2)] as string).slice(2).toUpperCase().replaceAll('-', '_')}`));
      const r = parseFlags(argv, 6, env);
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.error, pattern);
    });
  }

  it('a variable of the other mode clashes with --config like its flag, and the error names it', () => {
    const r = parseFlags(['--config', 'x.yaml', '--admin', '127.0.0.1:0'], 6, { SPOOKY_DP_SCOPE: 'prod', SPOOKY_DP_CERT: '/etc/n.crt' });
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.error, '--config (standalone) cannot be combined with SPOOKY_DP_SCOPE, SPOOKY_DP_CERT');
  });
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
