import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { canonicalJson, digest } from './canonical.ts';
import { MAX_RATE_LIMIT_RULES } from './limits.ts';
import { parseConfig, parseConfigText } from './parse-config.ts';
import type { Config, ConfigIssue } from './types.ts';
import { upstreamPolicy } from './upstream-policy.ts';

const base = {
  listen: { address: '127.0.0.1', port: 9889, tls: { cert: 'c.pem', key: 'k.pem' } },
  upstream: {
    api: { route: { path_prefix: '/api' }, backends: [{ id: 'a', address: 'http://127.0.0.1:8080' }] },
    web: { route: { path_prefix: '/' }, backends: [{ id: 'w', address: 'http://127.0.0.1:8081' }] },
  },
};

function accept(input: unknown): Config {
  const r = parseConfig(input);
  assert.deepEqual(r.ok ? [] : r.issues, []);
  assert.ok(r.ok);
  return r.config;
}

function refuse(input: unknown): string[] {
  const r = parseConfig(input);
  assert.equal(r.ok, false, 'expected a refusal');
  return r.ok ? [] : r.issues.map((i: ConfigIssue) => `${i.pointer} ${i.code}`).sort();
}

/** The canonical form is itself a config that means the same (same digest). */
function assertCanonicalRoundTrip(config: Config): void {
  const again = accept(JSON.parse(canonicalJson(config)));
  assert.equal(digest(again), digest(config));
}

test('without a resilience section every default of DATAPLANE.md is filled (brownout and hedging off)', () => {
  const c = accept(base);
  assert.deepEqual(c.resilience, {
    circuit_breaker: { enabled: true, failure_threshold: 3, open_ms: 30_000, half_open_max_probes: 1, count_5xx: false },
    retries: { retry_on: ['connect_failure', 'reset', 'timeout', 502, 503], max_attempts: 2, backoff_base_ms: 25, backoff_max_ms: 250, max_replay_body_bytes: 65_536 },
    retry_budget: { enabled: true, ratio_percent: 10, per_route_ratio_percent: {} },
    hedging: { enabled: false, delay_ms: 100, safe_methods: ['GET', 'HEAD'], route_allowlist: [] },
    adaptive_admission: { enabled: true, min_limit: 64, max_limit: null, decrease_step: 16, increase_step: 16, high_latency_ms: 500 },
    route_queue: { default_cap: 512, global_cap: 2048, shed_retry_after_seconds: 1, max_wait_ms: null, caps: {} },
    brownout: { enabled: false, trigger_inflight_percent: 90, recover_inflight_percent: 60, core_routes: [] },
    scoped_rate_limits: [],
    protocol: { allow_0rtt: false, enforce_authority_host_match: true, allow_connect: false, allowed_methods: [], denied_path_prefixes: [] },
  });
  const p = c.performance;
  assert.deepEqual(
    [p.global_inflight_limit, p.per_upstream_inflight_limit, p.per_backend_inflight_limit, p.shutdown_drain_timeout_ms, p.backend_dns_refresh_enabled, p.backend_dns_refresh_interval_ms],
    [4096, 1024, 64, 5000, false, 30_000],
  );
  assert.equal(p.upstream_body_total_timeout_ms, null, 'no separate body bound unless given');
  assert.equal(c.upstream['api']?.resilience, null);
  assert.equal(c.upstream['api']?.timeouts, null);
  assertCanonicalRoundTrip(c);
});

test('the Rust Spooky example parses unchanged; Rust spellings fold into ours and the canonical form keeps only ours', () => {
  const text = readFileSync(join(import.meta.dirname, '..', 'examples', 'rust-spooky-resilience.yaml'), 'utf8');
  const r = parseConfigText(text);
  assert.deepEqual(r.ok ? [] : r.issues, []);
  assert.ok(r.ok);
  const p = r.config.performance;
  assert.deepEqual(
    [p.upstream_connect_timeout_ms, p.upstream_headers_timeout_ms, p.upstream_body_idle_timeout_ms, p.upstream_body_total_timeout_ms, p.request_timeout_ms],
    [500, 2000, 2000, 30_000, 35_000],
  );
  assert.deepEqual([p.max_request_headers, p.max_request_header_bytes], [128, 16_384], 'protocol.max_headers_* are aliases');
  const canonical = canonicalJson(r.config);
  assert.doesNotMatch(canonical, /backend_(connect|body_idle|body_total|total_request)?_?timeout_ms|max_headers_(count|bytes)/);
  assert.equal(r.config.resilience.scoped_rate_limits[1]?.key, 'header:x-tenant-id');
  assert.equal(upstreamPolicy(r.config, 'api_pool').hedging.enabled, true);
  assert.equal(upstreamPolicy(r.config, 'web_pool').hedging.enabled, false, 'not allow-listed');
  assert.equal(upstreamPolicy(r.config, 'api_pool').retry_budget.ratio_percent, 20);
  assert.equal(upstreamPolicy(r.config, 'web_pool').retry_budget.ratio_percent, 10);
  assertCanonicalRoundTrip(r.config);
});

test('aliases: both spellings only with the same value; equal ones mean the same config', () => {
  assert.deepEqual(refuse({ ...base, performance: { upstream_connect_timeout_ms: 100, backend_connect_timeout_ms: 200 } }), [
    '/performance/backend_connect_timeout_ms config.alias_conflict',
  ]);
  assert.deepEqual(refuse({ ...base, performance: { max_request_headers: 50 }, resilience: { protocol: { max_headers_count: 60 } } }), [
    '/resilience/protocol/max_headers_count config.alias_conflict',
  ]);
  const both = accept({ ...base, performance: { request_timeout_ms: 9000, backend_total_request_timeout_ms: 9000 } });
  const one = accept({ ...base, performance: { request_timeout_ms: 9000 } });
  const rust = accept({ ...base, performance: { backend_total_request_timeout_ms: 9000 } });
  assert.equal(digest(both), digest(one));
  assert.equal(digest(rust), digest(one));
});

test('timeouts: given values must be ordered; values left out are clamped into the given order', () => {
  const table: Array<[Record<string, number>, number[] | string[]]> = [
    [{ backend_total_request_timeout_ms: 35_000 }, [3000, 30_000, 35_000, -1, 35_000]],
    [{ upstream_connect_timeout_ms: 40_000 }, [40_000, 40_000, 60_000, -1, 300_000]],
    [{ upstream_body_total_timeout_ms: 1000 }, [1000, 1000, 1000, 1000, 300_000]],
    [{ upstream_headers_timeout_ms: 100, upstream_body_idle_timeout_ms: 50 }, ['/performance/upstream_headers_timeout_ms timeouts.order']],
    [{ backend_connect_timeout_ms: 900, request_timeout_ms: 800 }, ['/performance/backend_connect_timeout_ms timeouts.order']],
    [{ upstream_body_total_timeout_ms: 500, backend_body_idle_timeout_ms: 600 }, ['/performance/backend_body_idle_timeout_ms timeouts.order']],
  ];
  for (const [performance, expected] of table) {
    if (typeof expected[0] === 'string') {
      assert.deepEqual(refuse({ ...base, performance }), expected, JSON.stringify(performance));
      continue;
    }
    const p = accept({ ...base, performance }).performance;
    const got = [p.upstream_connect_timeout_ms, p.upstream_headers_timeout_ms, p.upstream_body_idle_timeout_ms, p.upstream_body_total_timeout_ms ?? -1, p.request_timeout_ms];
    assert.deepEqual(got, expected, JSON.stringify(performance));
  }
});

test('every upstream name a list or map names must exist: upstream.unknown at that pointer', () => {
  const issues = refuse({
    ...base,
    resilience: {
      retry_budget: { per_route_ratio_percent: { api: 5, banshee: 5 } },
      hedging: { route_allowlist: ['web', 'ghost'] },
      route_queue: { caps: { phantom: 3 } },
      brownout: { core_routes: ['api', 'web', 'spectre'] },
      scoped_rate_limits: [{ name: 'r', scope: 'route', requests_per_sec: 1, burst: 1, route_allowlist: ['wraith'] }],
    },
  });
  assert.deepEqual(issues, [
    '/resilience/brownout/core_routes/2 upstream.unknown',
    '/resilience/hedging/route_allowlist/1 upstream.unknown',
    '/resilience/retry_budget/per_route_ratio_percent/banshee upstream.unknown',
    '/resilience/route_queue/caps/phantom upstream.unknown',
    '/resilience/scoped_rate_limits/0/route_allowlist/0 upstream.unknown',
  ].sort());
});

test('semantic rules: admission limits, brownout hysteresis, backoff, rate-limit names and keys, rule cap', () => {
  const rule = (extra: object) => ({ name: 'r', scope: 'client', requests_per_sec: 10, burst: 20, ...extra });
  const table: Array<[object, string[]]> = [
    [{ adaptive_admission: { min_limit: 100, max_limit: 50 } }, ['/resilience/adaptive_admission/max_limit adaptive_admission.limits']],
    [{ brownout: { trigger_inflight_percent: 60, recover_inflight_percent: 60 } }, ['/resilience/brownout/recover_inflight_percent brownout.thresholds']],
    [{ retries: { backoff_base_ms: 300, backoff_max_ms: 200 } }, ['/resilience/retries/backoff_base_ms retries.backoff']],
    [{ scoped_rate_limits: [rule({}), rule({ scope: 'token' })] }, ['/resilience/scoped_rate_limits/1/name rate_limit.duplicate']],
    [{ scoped_rate_limits: [rule({ scope: 'route', key: 'path' })] }, ['/resilience/scoped_rate_limits/0/key rate_limit.key']],
    [{ scoped_rate_limits: [rule({ scope: 'tenant' })] }, ['/resilience/scoped_rate_limits/0/key rate_limit.key']],
    [{ scoped_rate_limits: [rule({ key: 'body:x' })] }, ['/resilience/scoped_rate_limits/0/key rate_limit.key']],
    [{ scoped_rate_limits: Array.from({ length: MAX_RATE_LIMIT_RULES + 1 }, (_, i) => rule({ name: `r${i}` })) }, ['/resilience/scoped_rate_limits schema.range']],
    [{ retries: { retry_on: ['timeout', 'gateway'] } }, ['/resilience/retries/retry_on/1 schema.enum']],
    [{ circuit_breaker: { failure_threshold: 0 } }, ['/resilience/circuit_breaker/failure_threshold schema.range']],
    [{ watchdog: {} }, ['/resilience/watchdog schema.unknown_key']],
  ];
  for (const [resilience, expected] of table) assert.deepEqual(refuse({ ...base, resilience }), expected, JSON.stringify(resilience).slice(0, 80));
  const ok = accept({ ...base, resilience: { scoped_rate_limits: [rule({ key: 'Header:X-Api-Key', shadow: true }), rule({ name: 't', scope: 'tenant', key: 'cookie:Tenant' })] } });
  assert.deepEqual(ok.resilience.scoped_rate_limits.map((r) => [r.key, r.shadow]), [['header:x-api-key', true], ['cookie:Tenant', false]]);
});

test('per-upstream blocks merge key by key over the global ones; upstreamPolicy resolves every override', () => {
  const c = accept({
    ...base,
    performance: { upstream_connect_timeout_ms: 1000, request_timeout_ms: 60_000 },
    resilience: { circuit_breaker: { failure_threshold: 5, open_ms: 10_000 }, hedging: { enabled: true, route_allowlist: ['web'], delay_ms: 40 } },
    upstream: {
      api: {
        ...base.upstream.api,
        resilience: { circuit_breaker: { count_5xx: true }, retries: { retry_on: [503, 'reset'] }, hedging: { delay_ms: 20 }, retry_budget: { ratio_percent: 25 } },
        timeouts: { backend_timeout_ms: 5000 },
      },
      web: base.upstream.web,
    },
  });
  const api = upstreamPolicy(c, 'api');
  assert.deepEqual(api.circuit_breaker, { enabled: true, failure_threshold: 5, open_ms: 10_000, half_open_max_probes: 1, count_5xx: true });
  assert.deepEqual(api.retries.retry_on, ['reset', 503]);
  assert.deepEqual(api.hedging, { enabled: false, delay_ms: 20, safe_methods: ['GET', 'HEAD'] }, 'api is not on the global allow-list');
  assert.deepEqual(api.retry_budget, { enabled: true, ratio_percent: 25 });
  assert.deepEqual(api.timeouts, { upstream_connect_timeout_ms: 1000, upstream_headers_timeout_ms: 5000, upstream_body_idle_timeout_ms: 60_000, upstream_body_total_timeout_ms: null, request_timeout_ms: 60_000 });
  const web = upstreamPolicy(c, 'web');
  assert.deepEqual(web.hedging, { enabled: true, delay_ms: 40, safe_methods: ['GET', 'HEAD'] });
  assert.deepEqual(web.timeouts, { upstream_connect_timeout_ms: 1000, upstream_headers_timeout_ms: 30_000, upstream_body_idle_timeout_ms: 60_000, upstream_body_total_timeout_ms: null, request_timeout_ms: 60_000 });
  assertCanonicalRoundTrip(c);

  // api's own timeouts: given 5000 (headers) > 2000 (request) is refused at the Rust key as written.
  assert.deepEqual(refuse({ ...base, upstream: { ...base.upstream, api: { ...base.upstream.api, timeouts: { backend_timeout_ms: 5000, request_timeout_ms: 2000 } } } }), [
    '/upstream/api/timeouts/backend_timeout_ms timeouts.order',
  ]);
  const clamped = accept({ ...base, upstream: { ...base.upstream, api: { ...base.upstream.api, timeouts: { request_timeout_ms: 2000 } } } });
  assert.deepEqual(upstreamPolicy(clamped, 'api').timeouts, {
    upstream_connect_timeout_ms: 2000,
    upstream_headers_timeout_ms: 2000,
    upstream_body_idle_timeout_ms: 2000,
    upstream_body_total_timeout_ms: null,
    request_timeout_ms: 2000,
  });
  assert.deepEqual(
    refuse({ ...base, resilience: { retry_budget: { per_route_ratio_percent: { api: 5 } } }, upstream: { ...base.upstream, api: { ...base.upstream.api, resilience: { retry_budget: { ratio_percent: 6 } } } } }),
    ['/upstream/api/resilience/retry_budget/ratio_percent config.alias_conflict'],
  );
});

test('retry_on order and duplicates in lists do not change the digest', () => {
  const a = accept({ ...base, resilience: { retries: { retry_on: [503, 'timeout', 'reset'] }, brownout: { core_routes: ['web', 'api'] } } });
  const b = accept({ ...base, resilience: { retries: { retry_on: ['reset', 'timeout', 503] }, brownout: { core_routes: ['api', 'web'] } } });
  assert.equal(digest(a), digest(b));
});

test('route_queue.max_wait_ms: ours, default null; a positive integer of ms or null, anything else refused at its pointer', () => {
  assert.equal(accept(base).resilience.route_queue.max_wait_ms, null);
  assert.equal(accept({ ...base, resilience: { route_queue: { max_wait_ms: 250 } } }).resilience.route_queue.max_wait_ms, 250);
  assert.equal(accept({ ...base, resilience: { route_queue: { max_wait_ms: null } } }).resilience.route_queue.max_wait_ms, null);
  for (const bad of [0, -5, 1.5, '100']) {
    const issues = refuse({ ...base, resilience: { route_queue: { max_wait_ms: bad } } });
    assert.ok(issues.length > 0 && issues.every((i) => i.startsWith('/resilience/route_queue/max_wait_ms ')), `${JSON.stringify(bad)}: ${issues.join(', ')}`);
  }
});
