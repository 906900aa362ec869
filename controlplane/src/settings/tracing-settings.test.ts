import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSettings } from './settings.ts';

const BASE = ['--db', 'x', '--http', '127.0.0.1:0', '--grpc', '127.0.0.1:0', '--tokens', 't'];

describe('span export settings', () => {
  it('off without an endpoint; a bare origin gets /v1/traces; defaults ratio 1 and spooky-controlplane', () => {
    assert.equal(parseSettings(BASE, {}).tracing, null);
    assert.deepEqual(parseSettings([...BASE, '--otlp-endpoint', 'http://127.0.0.1:4318'], {}).tracing, {
      endpoint: 'http://127.0.0.1:4318/v1/traces',
      sampleRatio: 1,
      serviceName: 'spooky-controlplane',
    });
  });

  it('env fallbacks; flags win', () => {
    const env = { SPOOKY_CP_OTLP_ENDPOINT: 'https://otel.example/x/traces', SPOOKY_CP_OTLP_SAMPLE_RATIO: '0.5', SPOOKY_CP_OTLP_SERVICE_NAME: 'cp-eu' };
    assert.deepEqual(parseSettings(BASE, env).tracing, { endpoint: 'https://otel.example/x/traces', sampleRatio: 0.5, serviceName: 'cp-eu' });
    assert.equal(parseSettings([...BASE, '--otlp-sample-ratio', '0'], env).tracing?.sampleRatio, 0);
  });

  it('refuses a non-http(s) URL, credentials in it (never echoed), and a ratio outside 0..1', () => {
    for (const bad of ['collector:4318', 'ftp://c/v1/traces']) {
      assert.throws(() => parseSettings([...BASE, '--otlp-endpoint', bad], {}), { code: 'settings_invalid' });
    }
    assert.throws(
      () => parseSettings([...BASE, '--otlp-endpoint', 'https://u:hunter2@c/v1/traces'], {}),
      (err: Error) => (err as { code?: string }).code === 'settings_invalid' && !err.message.includes('hunter2'),
    );
    for (const ratio of ['1.5', '-0.1', 'x', '']) {
      assert.throws(() => parseSettings([...BASE, '--otlp-endpoint', 'http://127.0.0.1:4318', '--otlp-sample-ratio', ratio], {}), { code: 'settings_invalid' });
    }
  });
});
