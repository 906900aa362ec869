import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Config, parseConfig } from '@spooky/config';
import type { TransportSettings } from '../forwarding/transport-settings.ts';
import type { BackendTransport, UpstreamResponse } from '../http/backend-transport.ts';
import { LongLivedState } from '../runtime/long-lived-state.ts';
import { compileGeneration } from './compile-generation.ts';

function config(upstreams: number, backends: number): Config {
  const upstream: Record<string, unknown> = {};
  for (let u = 0; u < upstreams; u++) {
    upstream[`u${u}`] = {
      route: { path_prefix: `/u${u}/`, headers: [{ name: 'x-tenant', exact: `t${u}` }] },
      backends: Array.from({ length: backends }, (_, b) => ({ id: `b${b}`, address: `http://10.0.${u}.${b + 1}:80` })),
    };
  }
  const parsed = parseConfig({ version: 1, listen: { address: '127.0.0.1', port: 9889, tls: { cert: 'c.pem', key: 'k.pem' } }, upstream });
  assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.issues));
  return parsed.config;
}

/** A LongLivedState whose transports are counted fakes and whose health handles are counted. */
function countingState() {
  const counts = { transportsCreated: 0, handles: 0 };
  const state = new LongLivedState({
    createTransport: (): BackendTransport => {
      counts.transportsCreated++;
      return {
        protocol: 'h1',
        forward: () => Promise.resolve({ status: 204, headers: [], stream: () => undefined, resume: () => undefined, abort: () => undefined } as UpstreamResponse),
        close: async () => undefined,
      };
    },
  });
  const handle = state.health.handle.bind(state.health);
  state.health.handle = (upstream, address) => {
    counts.handles++;
    return handle(upstream, address);
  };
  return { state, counts };
}

describe('compileGeneration', () => {
  it('creates nothing in LongLivedState when the route table fails', async () => {
    const { state, counts } = countingState();
    const good = config(3, 4);
    // A regex the validator never saw (Config built by hand) fails compileRouteMatchers.
    const u2 = good.upstream['u2'];
    assert.ok(u2?.route);
    const broken: Config = {
      ...good,
      upstream: { ...good.upstream, u2: { ...u2, route: { ...u2.route, headers: [{ name: 'x-tenant', regex: '(' }] } } },
    };
    const result = compileGeneration(broken, null, state);
    assert.ok(!result.ok);
    assert.equal(result.issues[0]?.code, 'route.matcher.regex_invalid');
    assert.deepEqual(state.sizes(), { transports: 0, pools: 0, cursors: 0, stats: 0 });
    assert.equal(counts.handles, 0, 'no health handle was asked for');
    assert.equal(counts.transportsCreated, 0);
    await state.close();
  });

  it('creates a backend pool only on its first request, and a failed CA file creates nothing either', async () => {
    const { state, counts } = countingState();
    const result = compileGeneration(config(2, 3), null, state);
    assert.ok(result.ok);
    assert.equal(state.sizes().transports, 6);
    assert.equal(state.sizes().pools, 0, 'compile opened no pool');
    assert.equal(counts.transportsCreated, 0);
    const backend = result.generation.upstreams.get('u1')?.backends[0];
    assert.ok(backend);
    const response = await backend.transport.forward({ method: 'GET', path: '/', headers: [], body: null, signal: new AbortController().signal });
    assert.equal(response.status, 204);
    assert.equal(state.sizes().pools, 1);
    assert.equal(counts.transportsCreated, 1);

    const other = new LongLivedState();
    const badCa: Config = { ...config(1, 1), upstream_tls: { verify_certificates: true, ca_file: '/nonexistent/ca.pem', ca_dir: null } };
    const failed = compileGeneration(badCa, null, other);
    assert.ok(!failed.ok);
    assert.equal(failed.issues[0]?.code, 'tls.ca_file.unreadable');
    assert.deepEqual(other.sizes(), { transports: 0, pools: 0, cursors: 0, stats: 0 });
    await Promise.all([state.close(), other.close()]);
  });

  it('gives each backend its upstream\'s resolved timeouts; equal settings share one object and keep pools across generations', async () => {
    const seen = new Map<string, TransportSettings>();
    const state = new LongLivedState({
      createTransport: (address, settings): BackendTransport => {
        seen.set(address, settings);
        return {
          protocol: 'h1',
          forward: () => Promise.resolve({ status: 204, headers: [], stream: () => undefined, resume: () => undefined, abort: () => undefined } as UpstreamResponse),
          close: async () => undefined,
        };
      },
    });
    const raw = {
      version: 1,
      listen: { address: '127.0.0.1', port: 9889, tls: { cert: 'c.pem', key: 'k.pem' } },
      performance: { upstream_connect_timeout_ms: 1000, upstream_headers_timeout_ms: 2000, upstream_body_idle_timeout_ms: 3000, request_timeout_ms: 10_000 },
      upstream: {
        slow: {
          route: { path_prefix: '/slow/' },
          timeouts: { upstream_headers_timeout_ms: 7000, upstream_body_idle_timeout_ms: 8000, upstream_body_total_timeout_ms: 9000, request_timeout_ms: 20_000 },
          backends: [{ id: 's', address: 'http://10.0.0.1:80' }],
        },
        plain: { route: { path_prefix: '/a/' }, backends: [{ id: 'p', address: 'http://10.0.0.2:80' }] },
        same: { route: { path_prefix: '/b/' }, backends: [{ id: 'q', address: 'http://10.0.0.3:80' }] },
      },
    };
    const parsed = parseConfig(raw);
    assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.issues));
    const compiled = compileGeneration(parsed.config, null, state);
    assert.ok(compiled.ok);
    const request = { method: 'GET', path: '/', headers: [], body: null, signal: new AbortController().signal };
    for (const u of compiled.generation.upstreams.values()) for (const b of u.backends) await b.transport.forward(request);
    const slow = seen.get('http://10.0.0.1:80');
    assert.deepEqual(
      slow && [slow.connectTimeoutMs, slow.headersTimeoutMs, slow.bodyIdleTimeoutMs, slow.bodyTotalTimeoutMs],
      [1000, 7000, 8000, 9000],
      'the upstream\'s own timeouts; the connect timeout it left out is the global one',
    );
    const plain = seen.get('http://10.0.0.2:80');
    assert.deepEqual(plain && [plain.connectTimeoutMs, plain.headersTimeoutMs, plain.bodyIdleTimeoutMs, plain.bodyTotalTimeoutMs], [1000, 2000, 3000, null]);
    assert.equal(seen.get('http://10.0.0.3:80'), plain, 'upstreams with equal settings share one settings object');
    assert.equal(state.sizes().pools, 3);

    // The same config again: every backend keeps its pool (same upstream, address and settings).
    const again = parseConfig(raw);
    assert.ok(again.ok);
    const recompiled = compileGeneration(again.config, null, state);
    assert.ok(recompiled.ok);
    state.retain(recompiled.generation);
    assert.deepEqual([state.sizes().transports, state.sizes().pools], [3, 3]);
    await state.close();
  });
});
