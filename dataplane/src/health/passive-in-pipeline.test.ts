/**
 * Passive ejection wired through the real pipeline: the attempt loop reports each try to the
 * HealthMonitor and leaves ejected backends out (→ 503 no_healthy_backends when none is left).
 * Transports are fakes that fail to connect or answer 503.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { parseConfig } from '@spooky/config';
import pino from 'pino';
import { compileGeneration } from '../compile/compile-generation.ts';
import { SpookyError } from '../errors.ts';
import type { BackendTransport } from '../http/backend-transport.ts';
import { createMemoryExchange } from '../http/memory-exchange.ts';
import { createRequestHandler } from '../pipeline/request-handler.ts';
import { GenerationStore } from '../runtime/generation-store.ts';
import { LongLivedState } from '../runtime/long-lived-state.ts';
import { fakeProberFactory } from './testing/fake-prober.ts';
import { ManualScheduler } from './testing/manual-scheduler.ts';

const DOWN = 'http://127.0.0.1:1001';

const failingTransport = (): BackendTransport => ({
  protocol: 'h1',
  forward: () => Promise.reject(new SpookyError('upstream_connect_failed', 'refused')),
  close: () => Promise.resolve(),
});

describe('passive ejection in the pipeline', () => {
  let state: LongLivedState;
  let scheduler: ManualScheduler;
  let handle: ReturnType<typeof createRequestHandler>;

  beforeEach(async () => {
    scheduler = new ManualScheduler();
    state = new LongLivedState({ createTransport: failingTransport, health: { createProber: fakeProberFactory().factory, scheduler } });
    const parsed = parseConfig({
      version: 1,
      listen: { address: '127.0.0.1', port: 9889, tls: { cert: 'unused.pem', key: 'unused.pem' } },
      upstream: { app: { route: { path_prefix: '/' }, backends: [{ id: 'down', address: DOWN }] } },
      // Passive health alone: the circuit breaker (also 3 failures by default) would keep the backend out longer.
      resilience: { circuit_breaker: { enabled: false } },
    });
    assert.ok(parsed.ok);
    const compiled = compileGeneration(parsed.config, null, state);
    assert.ok(compiled.ok);
    const store = new GenerationStore();
    store.swap(compiled.generation);
    await state.retain(compiled.generation);
    handle = createRequestHandler({ store, state, logger: pino({ level: 'silent' }) });
  });
  afterEach(() => state.close());

  async function status(): Promise<{ status: number; reason: string | undefined }> {
    const ex = createMemoryExchange({ path: '/x' });
    await handle(ex);
    return { status: ex.response.status, reason: ex.response.headers.find(([n]) => n === 'spooky-reason')?.[1] };
  }

  it('three connect failures eject the only backend: the next request is a 503 without an attempt', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await status()).status, 502);
    assert.deepEqual(await status(), { status: 503, reason: 'no_healthy_backends' });
    assert.equal(state.health.isAvailable('app', DOWN), false);
    await scheduler.advance(10_000);
    assert.equal(state.health.isAvailable('app', DOWN), true, 're-admitted after 10 s');
    assert.equal((await status()).status, 502, 'tried again');
    assert.deepEqual(await status(), { status: 503, reason: 'no_healthy_backends' }, 'one failure re-ejects');
  });
});
