import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { addressKey, FailureLimiter } from '../auth/failure-limiter.ts';
import { hashToken } from '../auth/token-authenticator.ts';
import { createLogger } from '../observability/logger.ts';
import { type ApiKit, startApiKit } from './api-test-kit.ts';
import { AuthThrottle, DEFAULT_AUTH_LIMITS } from './auth-throttle.ts';

describe('failed authentications are throttled', () => {
  let kit: ApiKit;
  let nowMs = 1_000_000;
  const lines: string[] = [];
  before(() => {
    const destination = new Writable({
      write(chunk, _enc, done) {
        lines.push(...String(chunk).split('\n').filter((l) => l !== ''));
        done();
      },
    });
    kit = startApiKit({ authThrottle: new AuthThrottle(DEFAULT_AUTH_LIMITS, () => nowMs), logger: createLogger({ level: 'warn', destination }) });
  });
  after(() => kit.close());

  const get = (token: string | null, remoteAddress = '127.0.0.1') =>
    kit.app.inject({
      url: '/v1/scopes/default/active',
      remoteAddress,
      headers: token === null ? {} : { authorization: `Bearer ${token}` },
    });

  it('answers 429 + Retry-After (problem+json) once an address has failed 20 times', async () => {
    const statuses: number[] = [];
    const guesses = Array.from({ length: 60 }, (_, i) => `spk_guess-${i}-${Math.random().toString(36).slice(2)}`);
    for (const guess of guesses) {
      const res = await get(guess);
      statuses.push(res.statusCode);
      if (res.statusCode === 429) {
        assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
        assert.equal(res.json().code, 'too_many_requests');
        const retryAfter = Number(res.headers['retry-after']);
        assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 2, `Retry-After ${res.headers['retry-after']}`);
      }
    }
    assert.deepEqual(statuses.slice(0, DEFAULT_AUTH_LIMITS.perAddress.burst), Array(DEFAULT_AUTH_LIMITS.perAddress.burst).fill(401));
    assert.deepEqual(statuses.slice(DEFAULT_AUTH_LIMITS.perAddress.burst), Array(60 - DEFAULT_AUTH_LIMITS.perAddress.burst).fill(429));
    assert.equal((await get(null)).statusCode, 429, 'a missing token is a failure too');

    // A correct token still works from the throttled address; failures stay refused.
    assert.equal((await get('reader-token')).statusCode, 200);
    assert.equal((await get('wrong')).statusCode, 429);
    // Another address is not affected.
    assert.equal((await get('wrong', '10.0.0.9')).statusCode, 401);
    // Refusals are not counted again: after Retry-After one more failure is a plain 401.
    nowMs += 2000;
    assert.equal((await get('wrong')).statusCode, 401);
    assert.equal((await get('wrong')).statusCode, 429);

    const logged = lines.join('\n');
    for (const guess of guesses) assert.ok(!logged.includes(guess), 'no presented token is logged');
    assert.ok(!logged.includes('reader-token'));
    const throttled = lines.filter((l) => l.includes('authentication failures throttled'));
    assert.equal(throttled.length, 2, 'one line per throttled period');
    const failed = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['msg'] === 'authentication failed');
    assert.ok(failed.length >= DEFAULT_AUTH_LIMITS.perAddress.burst);
    assert.match(String(failed[0]?.['fingerprint']), /^[0-9a-f]{12}$/);
    assert.equal(failed[0]?.['source'], '127.0.0.1');

    const metrics = (await kit.app.inject({ url: '/metrics' })).body;
    assert.match(metrics, /spooky_cp_auth_failures_total\{reason="unknown"\} 6\d/);
    assert.match(metrics, /spooky_cp_auth_failures_total\{reason="missing"\} 1/);
    assert.match(metrics, /spooky_cp_auth_throttled_total\{by="address"\} 4\d/);
  });

  it('over HTTP: an expired token is throttled by its name across addresses, and counted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spooky-throttle-'));
    const tokensFile = join(dir, 'tokens.json');
    const expired = 'spk_expired-ci-token';
    writeFileSync(
      tokensFile,
      JSON.stringify({ tokens: [{ name: 'old-ci', sha256: hashToken(expired), permissions: ['admin'], scopes: ['*'], expiresAt: '2020-01-01T00:00:00Z' }] }),
    );
    const tokenLines: string[] = [];
    const destination = new Writable({
      write(chunk, _enc, done) {
        tokenLines.push(...String(chunk).split('\n').filter((l) => l !== ''));
        done();
      },
    });
    const tokenKit = startApiKit({ tokensFile, authThrottle: new AuthThrottle(DEFAULT_AUTH_LIMITS, () => 0), logger: createLogger({ level: 'warn', destination }) });
    try {
      const burst = DEFAULT_AUTH_LIMITS.perToken.burst;
      const statuses: number[] = [];
      // One failure per address: only the token-name key can run out.
      for (let i = 0; i < burst + 5; i++) {
        const res = await tokenKit.app.inject({ url: '/v1/scopes/default/active', remoteAddress: `10.9.${i}.1`, headers: { authorization: `Bearer ${expired}` } });
        statuses.push(res.statusCode);
      }
      assert.deepEqual(statuses, [...Array<number>(burst).fill(401), ...Array<number>(5).fill(429)]);
      const throttled = tokenLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['msg'] === 'authentication failures throttled');
      assert.equal(throttled.length, 1);
      assert.equal(throttled[0]?.['by'], 'token');
      assert.ok(!tokenLines.join('\n').includes(expired), 'the token is never logged');
      const metrics = (await tokenKit.app.inject({ url: '/metrics' })).body;
      // Failures are counted with the throttled ones included.
      assert.match(metrics, new RegExp(`spooky_cp_auth_failures_total\\{reason="expired"\\} ${burst + 5}\\b`));
      assert.match(metrics, /spooky_cp_auth_throttled_total\{by="token"\} 5\b/);
    } finally {
      await tokenKit.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('throttles a known (expired) token name across addresses and all failures globally', () => {
    let t = 0;
    const throttle = new AuthThrottle(
      { perAddress: { burst: 100, perSecond: 1 }, perToken: { burst: 3, perSecond: 1 }, global: { burst: 10, perSecond: 1 }, maxKeys: 100 },
      () => t,
    );
    const verdicts = [1, 2, 3, 4].map((i) => throttle.onFailure(`10.0.0.${i}`, 'ci'));
    assert.deepEqual(verdicts.map((v) => v.throttled), [false, false, false, true]);
    assert.deepEqual(verdicts[3], { throttled: true, by: 'token', retryAfterSeconds: 1, first: true });
    // 3 failures counted so far (the refused one is not): 7 more exhaust the global 10.
    for (let i = 0; i < 7; i++) assert.equal(throttle.onFailure(`10.1.0.${i}`).throttled, false);
    assert.deepEqual(throttle.onFailure('10.2.0.1'), { throttled: true, by: 'global', retryAfterSeconds: 1, first: true });
    t += 1000;
    assert.equal(throttle.onFailure('10.2.0.1').throttled, false);
  });

  it('keeps a bounded number of keys, IPv6 by /64', () => {
    const limiter = new FailureLimiter({ burst: 1, perSecond: 1 }, { maxKeys: 1000, now: () => 0 });
    for (let i = 0; i < 50_000; i++) limiter.consume(`k${i}`);
    assert.equal(limiter.size, 1000);
    assert.equal(limiter.retryAfterMs('k49999'), 1000, 'the newest keys are kept');
    assert.equal(limiter.retryAfterMs('k0'), 0, 'the oldest was forgotten');
    assert.equal(addressKey('2001:db8:1:2::1'), '2001:db8:1:2::/64');
    assert.equal(addressKey('2001:0db8:0001:0002:ffff:1:2:3'), '2001:db8:1:2::/64');
    assert.equal(addressKey('::1'), '0:0:0:0::/64');
    assert.equal(addressKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
    assert.equal(addressKey('::ffff:192.0.2.7'), '192.0.2.7');
    assert.equal(addressKey('192.0.2.7'), '192.0.2.7');
  });
});
