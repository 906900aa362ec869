/**
 * Test support: the whole data plane request path in process — a real serving listener
 * (HTTP/3 + TLS TCP with HTTP/2 and HTTP/1.1) running the real pipeline, routing every path
 * to one recording origin (recording-origin.ts). Close with `close()`.
 */
import { parseConfig } from '@spooky/config';
import pino from 'pino';
import { compileGeneration } from '../compile/compile-generation.ts';
import type { InflightTracker } from '../ingress/inflight-tracker.ts';
import { createRequestHandler } from '../pipeline/request-handler.ts';
import { GenerationStore } from '../runtime/generation-store.ts';
import { LongLivedState } from '../runtime/long-lived-state.ts';
import { type RecordingOrigin, startRecordingOrigin } from './recording-origin.ts';
import { openTestListener } from './test-listener.ts';

export interface ProxyToOrigin {
  readonly port: number;
  readonly origin: RecordingOrigin;
  /** The listener's in-flight requests (wait on `idle(ms)` before reading what the origin saw). */
  readonly inflight: Pick<InflightTracker, 'count' | 'idle'>;
  close(): Promise<void>;
}

export async function openProxyToOrigin(performance: Record<string, unknown> = {}): Promise<ProxyToOrigin> {
  const origin = await startRecordingOrigin();
  try {
    return await openProxy(origin, performance);
  } catch (err) {
    await origin.close();
    throw err;
  }
}

async function openProxy(origin: RecordingOrigin, performance: Record<string, unknown>): Promise<ProxyToOrigin> {
  const parsed = parseConfig({
    version: 1,
    listen: { protocol: 'http3', address: '127.0.0.1', port: 9889, tls: { cert: 'unused.pem', key: 'unused.pem' } },
    upstream: { origin: { route: { path_prefix: '/' }, backends: [{ id: 'o1', address: `http://127.0.0.1:${origin.port}` }] } },
    performance: { upstream_connect_timeout_ms: 1000, upstream_headers_timeout_ms: 2000, upstream_body_idle_timeout_ms: 5000, request_timeout_ms: 5000, ...performance },
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  const state = new LongLivedState();
  const store = new GenerationStore();
  const compiled = compileGeneration(parsed.config, { scope: 'test', seq: 1, digest: 'e'.repeat(64) }, state);
  if (!compiled.ok) {
    await state.close();
    throw new Error(JSON.stringify(compiled.issues));
  }
  store.swap(compiled.generation);
  const handle = createRequestHandler({ store, state, logger: pino({ level: 'silent' }) });
  const { listener, port } = await openTestListener(handle);
  return {
    port,
    origin,
    inflight: listener.inflight,
    async close() {
      await listener.close(0);
      await state.close();
      await origin.close();
    },
  };
}
