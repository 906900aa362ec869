import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ScopedRateLimit } from '@spooky/config';
import { bearerToken, type RateLimitRequest, rateLimitKey, ScopedRateLimiters, TokenBucketLimiter } from './token-bucket-limiter.ts';

const rule = (extra: Partial<ScopedRateLimit> = {}): ScopedRateLimit => ({
  name: 'r',
  scope: 'client',
  requests_per_sec: 10,
  burst: 20,
  key: null,
  route_allowlist: [],
  idle_ttl_secs: 300,
  shadow: false,
  ...extra,
});

function request(extra: Partial<RateLimitRequest> & { headers?: Record<string, string> } = {}): RateLimitRequest {
  const headers = extra.headers ?? {};
  return {
    upstream: 'api',
    clientIp: '192.0.2.1',
    method: 'GET',
    authority: 'a.example',
    path: '/x?q=1',
    connectionId: 'cid-1',
    header: (n) => headers[n],
    cookie: (n) => (n === 'tenant' ? 't-9' : undefined),
    query: (n) => (n === 'q' ? '1' : undefined),
    ...extra,
  };
}

test('keys: scope defaults and key specs', () => {
  const req = request({ headers: { authorization: 'Bearer tok123', 'x-tenant': 'acme' } });
  const table: Array<[Partial<ScopedRateLimit>, string | undefined]> = [
    [{ scope: 'route' }, 'api'],
    [{ scope: 'client' }, '192.0.2.1'],
    [{ scope: 'token' }, 'tok123'],
    [{ scope: 'tenant', key: 'header:x-tenant' }, 'acme'],
    [{ scope: 'tenant', key: 'cookie:tenant' }, 't-9'],
    [{ scope: 'client', key: 'query:q' }, '1'],
    [{ scope: 'client', key: 'path' }, '/x?q=1'],
    [{ scope: 'client', key: 'sticky-cid' }, 'cid-1'],
    [{ scope: 'token', key: 'header:x-missing' }, undefined],
  ];
  for (const [r, key] of table) assert.equal(rateLimitKey(rule(r), req), key, JSON.stringify(r));
  assert.equal(bearerToken(request({ headers: { authorization: 'Basic abc' } })), undefined);
  assert.equal(bearerToken(request({ headers: { authorization: 'bearer  x ' } })), 'x');
});

test('10 req/s burst 20: the burst, then one token per 100 ms; Retry-After when empty', () => {
  const l = new TokenBucketLimiter(rule());
  for (let i = 0; i < 20; i++) assert.equal(l.take('k', 0), 'allow', `burst ${i}`);
  assert.equal(l.take('k', 0), 'limit');
  assert.equal(l.retryAfterSeconds, 1);
  assert.equal(l.take('k', 99), 'limit');
  assert.equal(l.take('k', 100), 'allow');
  // Over 5 s from full: 20 + 10/s × 5 = 70 admitted (±1 by where the window ends).
  const m = new TokenBucketLimiter(rule());
  let admitted = 0;
  for (let t = 0; t <= 5000; t += 10) if (m.take('k', t) === 'allow') admitted++;
  assert.ok(Math.abs(admitted - 70) <= 1, `admitted ${admitted}`);
});

test('shadow mode only reports would_limit; ScopedRateLimiters applies rules by route_allowlist and reports shadows', () => {
  const shadow = new TokenBucketLimiter(rule({ shadow: true, burst: 1 }));
  assert.equal(shadow.take('k', 0), 'allow');
  assert.equal(shadow.take('k', 0), 'would_limit');
  const shadows: string[] = [];
  const set = new ScopedRateLimiters([rule({ name: 'watch', shadow: true, burst: 1 }), rule({ name: 'web-only', burst: 1, route_allowlist: ['web'] }), rule({ name: 'api', burst: 2, scope: 'route' })]);
  const req = request();
  assert.deepEqual(set.check(req, 0, (r) => shadows.push(r)), { verdict: 'allow' });
  assert.deepEqual(set.check(req, 0, (r) => shadows.push(r)), { verdict: 'allow' });
  assert.deepEqual(set.check(req, 0, (r) => shadows.push(r)), { verdict: 'limit', rule: 'api', retryAfterSeconds: 1 });
  assert.deepEqual(shadows, ['watch', 'watch']);
});

test('buckets are bounded: idle ones expire after idle_ttl_secs, the least recently used go first at the cap', () => {
  const l = new TokenBucketLimiter(rule({ idle_ttl_secs: 10 }), 3);
  l.take('a', 0);
  l.take('b', 1000);
  l.take('c', 2000);
  l.take('a', 3000); // a is now the most recently used
  l.take('d', 4000); // over the cap: b (least recently used) goes
  assert.deepEqual(['a', 'b', 'c', 'd'].map((k) => l.has(k)), [true, false, true, true]);
  l.take('d', 4500); // < 1 s after its last move: not moved again (recency at 1-s granularity)
  l.take('e', 4600); // order was c, a, d: c goes
  assert.deepEqual(['a', 'c', 'd', 'e'].map((k) => l.has(k)), [true, false, true, true]);
  l.take('f', 20_000);
  assert.deepEqual([l.size, l.has('f')], [1, true], 'everything idle for 10 s evicted');
});

test('reconfigure keeps the buckets of rules that keep their name, scope and key', () => {
  const set = new ScopedRateLimiters([rule({ burst: 1 })]);
  const req = request();
  set.check(req, 0);
  assert.equal(set.check(req, 0).verdict, 'limit');
  set.reconfigure([rule({ burst: 1, requests_per_sec: 1 })]);
  assert.equal(set.check(req, 0).verdict, 'limit', 'tokens were not refilled by the swap');
  set.reconfigure([rule({ burst: 1, scope: 'route' })]);
  assert.equal(set.check(req, 0).verdict, 'allow', 'a different key means new buckets');
});
