import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSettings } from './settings.ts';

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
