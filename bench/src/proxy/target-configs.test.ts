import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfigText } from '@spooky/config';
import { caddyJson, spookyYaml } from './target-configs.ts';

describe('target configs', () => {
  it('the Spooky YAML is a valid config: one listener, one backend, CA file', () => {
    const result = parseConfigText(spookyYaml({ cert: '/tmp/c.pem', key: '/tmp/k.pem', upstream: 'https://127.0.0.1:4443', port: 9443 }));
    assert.ok(result.ok, JSON.stringify(result));
    const config = (result as { config: unknown }).config as { listeners: Array<{ port: number }>; upstream: Record<string, { backends: Array<{ address: string }> }> };
    assert.equal(config.listeners[0]?.port, 9443);
    assert.equal(config.upstream['origin']?.backends[0]?.address, 'https://127.0.0.1:4443');
  });

  it('the resilience variants are valid configs: bare turns the features off, full configures every one, queue-wait bounds the queue wait', async () => {
    const { upstreamPolicy } = await import('@spooky/config');
    const spec = { cert: '/tmp/c.pem', key: '/tmp/k.pem', upstream: 'http://127.0.0.1:8080', port: 9443 };
    const bare = parseConfigText(spookyYaml({ ...spec, resilience: 'bare' }));
    const full = parseConfigText(spookyYaml({ ...spec, resilience: 'full' }));
    assert.ok(bare.ok && full.ok, JSON.stringify([bare, full]));
    assert.equal(bare.config.resilience.circuit_breaker.enabled, false);
    assert.equal(bare.config.resilience.adaptive_admission.enabled, false);
    assert.equal(upstreamPolicy(bare.config, 'origin').retries.max_attempts, 1);
    const policy = upstreamPolicy(full.config, 'origin');
    assert.equal(policy.hedging.enabled, true);
    assert.equal(policy.timeouts.upstream_body_total_timeout_ms, 60000);
    assert.equal(full.config.resilience.brownout.enabled, true);
    assert.equal(full.config.resilience.scoped_rate_limits.length, 2);
    const queueWait = parseConfigText(spookyYaml({ ...spec, resilience: 'queue-wait' }));
    assert.ok(queueWait.ok, JSON.stringify(queueWait));
    assert.equal(queueWait.config.resilience.route_queue.max_wait_ms, 50);
  });

  it('Caddy: admin off, no access log, h3 on 127.0.0.1, the upstream protocol pinned', () => {
    const h1 = JSON.parse(caddyJson({ cert: 'c', key: 'k', upstream: 'http://127.0.0.1:8080', port: 9000, storageDir: '/tmp/s' }));
    const server = h1.apps.http.servers.bench;
    assert.equal(h1.admin.disabled, true);
    assert.equal(server.logs, undefined);
    assert.deepEqual(server.listen, ['127.0.0.1:9000']);
    assert.ok(server.protocols.includes('h3'));
    assert.deepEqual(server.routes[0].handle[0].transport.versions, ['1.1']);
    assert.equal(server.routes[0].handle[0].upstreams[0].dial, '127.0.0.1:8080');
    const h2 = JSON.parse(caddyJson({ cert: 'c', key: 'k', upstream: 'https://127.0.0.1:8443', port: 9000, storageDir: '/tmp/s' }));
    assert.deepEqual(h2.apps.http.servers.bench.routes[0].handle[0].transport.versions, ['2']);
    assert.deepEqual(h2.apps.http.servers.bench.routes[0].handle[0].transport.tls.root_ca_pem_files, ['c']);
    const h1tls = JSON.parse(caddyJson({ cert: 'c', key: 'k', upstream: 'https://127.0.0.1:8444', port: 9000, storageDir: '/tmp/s', h1OverTls: true }));
    assert.deepEqual(h1tls.apps.http.servers.bench.routes[0].handle[0].transport.versions, ['1.1']);
    assert.deepEqual(h1tls.apps.http.servers.bench.routes[0].handle[0].transport.tls.root_ca_pem_files, ['c']);
  });
});
