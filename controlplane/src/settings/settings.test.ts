import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONTROLPLANE_ENV, CONTROLPLANE_OPTIONS, parseSettings } from './settings.ts';

describe('parseSettings', () => {
  it('reads flags, falls back to env, defaults the log level', () => {
    const s = parseSettings(['--db', 'cp.db', '--http', '127.0.0.1:0', '--tokens', 't.json'], { SPOOKY_CP_GRPC: '[::1]:7000' });
    assert.deepEqual(s, {
      dbPath: 'cp.db',
      http: { host: '127.0.0.1', port: 0 },
      grpc: { host: '::1', port: 7000 },
      tokensFile: 't.json',
      logLevel: 'info',
      reportIntervalMs: 10_000,
      sseMaxSubscribers: 1000,
      httpTls: null,
      allowInsecureHttp: false,
      grpcTls: null,
      allowInsecureGrpc: false,
      tracing: null,
    });
    assert.equal(parseSettings(['--db', 'x', '--http', '127.0.0.1:0', '--grpc', '127.0.0.1:0', '--tokens', 't', '--sse-max-subscribers', '5'], {}).sseMaxSubscribers, 5);
    assert.throws(() => parseSettings(['--db', 'x', '--http', '127.0.0.1:0', '--grpc', '127.0.0.1:0', '--tokens', 't', '--sse-max-subscribers', '0'], {}), { code: 'settings_invalid' });
  });

  it('fails with settings_invalid on missing or malformed values', () => {
    assert.throws(() => parseSettings(['--db', 'x'], {}), { code: 'settings_invalid' });
    const base = ['--db', 'x', '--grpc', '127.0.0.1:1', '--tokens', 't'];
    assert.throws(() => parseSettings([...base, '--http', '127.0.0.1'], {}), { code: 'settings_invalid' });
    assert.throws(() => parseSettings([...base, '--http', '127.0.0.1:70000'], {}), { code: 'settings_invalid' });
    assert.throws(() => parseSettings([...base, '--http', '127.0.0.1:1', '--log-level', 'loud'], {}), { code: 'settings_invalid' });
    assert.throws(() => parseSettings([...base, '--http', '127.0.0.1:1', '--nope'], {}), { code: 'settings_invalid' });
    assert.throws(() => parseSettings([...base, '--http', '127.0.0.1:1', '--report-interval-ms', '5'], {}), { code: 'settings_invalid' });
    assert.equal(parseSettings([...base, '--http', '127.0.0.1:1', '--report-interval-ms', '250'], {}).reportIntervalMs, 250);
  });
});

/** argv → the same settings as SPOOKY_CP_* variables: `--flag v` → SPOOKY_CP_FLAG=v, a switch → 1. */
function asEnv(argv: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const flag = (argv[i] as string).slice(2);
    const option = CONTROLPLANE_OPTIONS[flag as keyof typeof CONTROLPLANE_OPTIONS];
    env[`SPOOKY_CP_${flag.toUpperCase().replaceAll('-', '_')}`] = option.type === 'boolean' ? '1' : (argv[++i] as string);
  }
  return env;
}

/** Asserts parseSettings refuses with settings_invalid and a message matching `pattern`. */
function refused(argv: readonly string[], env: Record<string, string>, pattern: RegExp): void {
  assert.throws(
    () => parseSettings(argv, env),
    (err: unknown) => {
      assert.equal((err as { code?: string }).code, 'settings_invalid');
      assert.match((err as Error).message, pattern);
      return true;
    },
  );
}

describe('SPOOKY_CP_* environment fallbacks', () => {
  const core = ['--db', 'cp.db', '--http', '127.0.0.1:8080', '--grpc', '127.0.0.1:8090', '--tokens', 't.json'];
  const everyFlag = [
    ...['--db', '/var/lib/spooky/cp.db', '--http', '0.0.0.0:8443', '--grpc', '[::]:8090', '--tokens', '/etc/spooky/tokens.json', '--log-level', 'debug'],
    ...['--report-interval-ms', '2500', '--sse-max-subscribers', '50', '--http-tls-cert', 'h.crt', '--http-tls-key', 'h.key', '--http-client-ca', 'ci.crt'],
    ...['--grpc-tls-cert', 'g.crt', '--grpc-tls-key', 'g.key', '--grpc-client-ca', 'node-ca.crt'],
    ...['--otlp-endpoint', 'http://otel.internal:4318', '--otlp-sample-ratio', '0.25', '--otlp-service-name', 'cp-eu'],
  ];
  const insecure = [...core.map((w) => w.replace('127.0.0.1', '0.0.0.0')), '--allow-insecure-http', '--allow-insecure-grpc'];

  it('every flag has its variable, SPOOKY_CP_ + the flag name in upper snake case', () => {
    assert.deepEqual(
      CONTROLPLANE_ENV.map(([flag]) => flag),
      Object.keys(CONTROLPLANE_OPTIONS),
    );
    for (const [flag, name] of CONTROLPLANE_ENV) assert.equal(name, `SPOOKY_CP_${flag.toUpperCase().replaceAll('-', '_')}`);
    const covered = new Set([...everyFlag, ...insecure].filter((w) => w.startsWith('--')).map((w) => w.slice(2)));
    assert.deepEqual([...covered].sort(), Object.keys(CONTROLPLANE_OPTIONS).sort(), 'the cases below cover every flag');
  });

  for (const [what, argv] of [
    ['every flag, TLS on both listeners', everyFlag],
    ['plaintext on wildcard hosts, both switches', insecure],
  ] as const) {
    it(`reads ${what} from the environment alone, to the same settings`, () => {
      assert.deepEqual(parseSettings([], asEnv(argv)), parseSettings(argv, {}));
    });
  }

  it('the flag wins over its variable, whose value is then not even checked', () => {
    const s = parseSettings([...core, '--log-level', 'warn', '--report-interval-ms', '500'], {
      SPOOKY_CP_LOG_LEVEL: 'loud',
      SPOOKY_CP_REPORT_INTERVAL_MS: 'often',
      SPOOKY_CP_DB: 'other.db',
      SPOOKY_CP_HTTP: 'nowhere',
    });
    assert.deepEqual([s.logLevel, s.reportIntervalMs, s.dbPath, s.http.port], ['warn', 500, 'cp.db', 8080]);
  });

  it('an empty variable is unset: the default applies, a required one is still missing', () => {
    const s = parseSettings(core, { SPOOKY_CP_LOG_LEVEL: '', SPOOKY_CP_SSE_MAX_SUBSCRIBERS: '', SPOOKY_CP_ALLOW_INSECURE_HTTP: '', SPOOKY_CP_HTTP_TLS_CERT: '' });
    assert.deepEqual([s.logLevel, s.sseMaxSubscribers, s.allowInsecureHttp, s.httpTls], ['info', 1000, false, null]);
    refused(core.slice(2), { SPOOKY_CP_DB: '' }, /^--db \(or SPOOKY_CP_DB\) is required/);
  });

  const withoutFlag = (flags: readonly string[]): string[] => core.filter((_, i) => !flags.includes(core[i - (i % 2)] as string));
  for (const [name, env, pattern] of [
    ['log level', { SPOOKY_CP_LOG_LEVEL: 'loud' }, /^SPOOKY_CP_LOG_LEVEL must be one of fatal, /],
    ['report interval', { SPOOKY_CP_REPORT_INTERVAL_MS: '5' }, /^SPOOKY_CP_REPORT_INTERVAL_MS must be an integer from 100 to 3600000$/],
    ['SSE limit', { SPOOKY_CP_SSE_MAX_SUBSCRIBERS: '1e3' }, /^SPOOKY_CP_SSE_MAX_SUBSCRIBERS must be an integer from 1 to 100000$/],
    ['REST address', { SPOOKY_CP_HTTP: '127.0.0.1' }, /^SPOOKY_CP_HTTP must be HOST:PORT \(got "127.0.0.1"\)$/],
    ['gRPC address', { SPOOKY_CP_GRPC: '[::1]:99999' }, /^SPOOKY_CP_GRPC must be HOST:PORT/],
    ['plaintext REST host', { SPOOKY_CP_HTTP: '0.0.0.0:8080' }, /^SPOOKY_CP_HTTP host 0.0.0.0 is not loopback/],
    ['plaintext gRPC host', { SPOOKY_CP_GRPC: '0.0.0.0:8090' }, /^SPOOKY_CP_GRPC host 0.0.0.0 is not loopback/],
    ['REST client CA without TLS', { SPOOKY_CP_HTTP_CLIENT_CA: 'ci.crt' }, /^SPOOKY_CP_HTTP_CLIENT_CA needs --http-tls-cert FILE --http-tls-key FILE/],
    ['gRPC TLS pair without the node CA', { SPOOKY_CP_GRPC_TLS_CERT: 'g.crt', SPOOKY_CP_GRPC_TLS_KEY: 'g.key' }, /^SPOOKY_CP_GRPC_TLS_CERT and SPOOKY_CP_GRPC_TLS_KEY need --grpc-client-ca FILE \(or SPOOKY_CP_GRPC_CLIENT_CA\)/],
    ['switch', { SPOOKY_CP_ALLOW_INSECURE_GRPC: 'yes' }, /^SPOOKY_CP_ALLOW_INSECURE_GRPC must be 1, true, 0 or false \(got "yes"\)$/],
  ] as const) {
    it(`a bad ${name} variable is an error naming it`, () => {
      const flags = Object.keys(env).map((n) => `--${n.slice('SPOOKY_CP_'.length).toLowerCase().replaceAll('_', '-')}`);
      refused(withoutFlag(flags), env, pattern);
    });
  }

  it('a value given as a flag is still named by its flag', () => {
    refused([...withoutFlag(['--http']), '--http', '0.0.0.0:8080'], { SPOOKY_CP_GRPC_TLS_KEY: 'g.key' }, /^--http host 0.0.0.0 is not loopback/);
    refused([...core, '--grpc-tls-key', 'g.key'], {}, /^--grpc-tls-key needs /);
  });
});
