import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { createConnectionMetrics } from './connection-metrics.ts';

test('connection metrics: rejected and closed counters by listener and reason', async () => {
  const registry = new Registry();
  const events = createConnectionMetrics(registry);
  events.rejected('127.0.0.1:9889', 'max_connections_per_ip');
  events.rejected('127.0.0.1:9889', 'max_connections_per_ip');
  events.closed('127.0.0.1:9889', 'tls_handshake_timeout');
  const text = await registry.metrics();
  assert.match(text, /spooky_connections_rejected_total\{listener="127\.0\.0\.1:9889",reason="max_connections_per_ip"\} 2/);
  assert.match(text, /spooky_connections_closed_total\{listener="127\.0\.0\.1:9889",reason="tls_handshake_timeout"\} 1/);
});
