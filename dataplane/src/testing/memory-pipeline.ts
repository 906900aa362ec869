/**
 * Test support: the real pipeline (compiled generation, LongLivedState, undici transports) behind
 * an in-memory exchange, for tests that drive requests at real origins without a listener.
 * `send` runs one request and returns what the client got plus the request's RequestEndEvent.
 * Registers its cleanup (unsubscribe, close the state) in `cleanups`.
 */
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { parseConfig } from '@spooky/config';
import pino from 'pino';
import { compileGeneration } from '../compile/compile-generation.ts';
import type { HeaderList } from '../http/exchange.ts';
import { createMemoryExchange } from '../http/memory-exchange.ts';
import type { RequestEndEvent } from '../pipeline/events.ts';
import { createRequestHandler } from '../pipeline/request-handler.ts';
import { GenerationStore } from '../runtime/generation-store.ts';
import { LongLivedState } from '../runtime/long-lived-state.ts';
import { CHANNELS } from '../telemetry/channel-names.ts';

export interface PipelineReply {
  readonly status: number;
  readonly body: string;
  readonly headers: HeaderList;
  /** The `spooky-reason` header of a local reply. */
  readonly reason: string | undefined;
  readonly event: RequestEndEvent;
  /** Wall time of the request, ms. */
  readonly ms: number;
}

/** `input` is a config document; it must be valid. */
export async function memoryPipeline(input: Record<string, unknown>, cleanups: (() => Promise<void>)[]) {
  const state = new LongLivedState();
  const parsed = parseConfig(input);
  assert.ok(parsed.ok, JSON.stringify(parsed.ok ? null : parsed.issues));
  const compiled = compileGeneration(parsed.config, null, state);
  assert.ok(compiled.ok);
  const store = new GenerationStore();
  store.swap(compiled.generation);
  await state.retain(compiled.generation);
  const handle = createRequestHandler({ store, state, logger: pino({ level: 'silent' }) });
  const events: RequestEndEvent[] = [];
  const onEnd = (m: unknown): void => {
    events.push(m as RequestEndEvent);
  };
  subscribe(CHANNELS.requestEnd, onEnd);
  cleanups.push(async () => {
    unsubscribe(CHANNELS.requestEnd, onEnd);
    await state.close();
  });
  async function send(options: { method?: string; body?: Buffer } = {}): Promise<PipelineReply> {
    const body = options.body;
    const ex = createMemoryExchange({
      path: '/x',
      method: options.method ?? 'GET',
      ...(body === undefined ? {} : { body: [body], headers: [['content-length', String(body.byteLength)]] }),
    });
    const started = performance.now();
    await handle(ex);
    const headers = ex.response.headers;
    return {
      status: ex.response.status,
      body: ex.response.body.toString(),
      headers,
      reason: headers.find(([n]) => n === 'spooky-reason')?.[1],
      event: events.at(-1) as RequestEndEvent,
      ms: performance.now() - started,
    };
  }
  return { send, state };
}
