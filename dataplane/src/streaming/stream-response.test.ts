/**
 * streamResponse over a scripted upstream response and a memory sink: which library-facing
 * calls a response takes (one sendComplete for a small declared body; streaming otherwise) and
 * what a failure before the head is committed turns into.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SpookyError } from '../errors.ts';
import type { BodyConsumer, UpstreamResponse } from '../http/backend-transport.ts';
import type { HeaderList } from '../http/exchange.ts';
import { createMemoryExchange } from '../http/memory-exchange.ts';
import { createContext } from '../pipeline/context.ts';
import type { Generation } from '../runtime/generation.ts';
import { SMALL_BODY_BYTES, streamResponse } from './stream-response.ts';

/** Only what createContext reads. */
const generation = { config: { performance: { request_timeout_ms: 10_000 } } } as unknown as Generation;

type Step = { readonly data: string } | { readonly end: HeaderList } | { readonly error: Error };

function scripted(headers: HeaderList, steps: readonly Step[], status = 200): UpstreamResponse & { aborted: boolean } {
  const response = {
    status,
    headers,
    aborted: false,
    stream(consumer: BodyConsumer): void {
      queueMicrotask(() => {
        for (const step of steps) {
          if ('data' in step) consumer.data(Buffer.from(step.data));
          else if ('end' in step) consumer.end(step.end);
          else consumer.error(step.error);
        }
      });
    },
    resume(): void {},
    abort(): void {
      response.aborted = true;
    },
  };
  return response;
}

async function run(response: UpstreamResponse, method = 'GET') {
  const exchange = createMemoryExchange({ method, path: '/' });
  const ctx = createContext(exchange, generation, 'rid-1', performance.now());
  ctx.response = response;
  try {
    await streamResponse.run(ctx);
  } finally {
    ctx.release();
  }
  return { sink: exchange.response, ctx };
}

test('a small declared body is collected and sent with its head in one sendComplete', async () => {
  const { sink, ctx } = await run(scripted([['content-length', '10'], ['x-request-id', 'theirs']], [{ data: 'hello' }, { data: 'world' }, { end: [] }]));
  assert.equal(sink.completeCalls, 1);
  assert.equal(sink.status, 200);
  assert.equal(sink.body.toString(), 'helloworld');
  assert.equal(sink.header('x-request-id'), 'rid-1', 'our request id replaces theirs');
  assert.equal(sink.ended, true);
  assert.equal(ctx.bytesOut, 10);
});

test('an empty declared body and a HEAD response are sent complete, with no body', async () => {
  const empty = await run(scripted([['content-length', '0']], [{ end: [] }]));
  assert.equal(empty.sink.completeCalls, 1);
  assert.equal(empty.sink.endedWithHead, true);
  const head = await run(scripted([['content-length', '99']], [{ end: [] }]), 'HEAD');
  assert.equal(head.sink.completeCalls, 1);
  assert.equal(head.sink.endedWithHead, true);
});

test('trailers after a small body fall back to head, write and end(trailers)', async () => {
  const { sink } = await run(scripted([['content-length', '2']], [{ data: 'ok' }, { end: [['grpc-status', '0']] }]));
  assert.equal(sink.completeCalls, 0);
  assert.equal(sink.body.toString(), 'ok');
  assert.deepEqual(sink.trailers, [['grpc-status', '0']]);
});

test('a body over its declared length, or without one, or over SMALL_BODY_BYTES is streamed', async () => {
  const over = await run(scripted([['content-length', '3']], [{ data: 'abc' }, { data: 'def' }, { end: [] }]));
  assert.equal(over.sink.completeCalls, 0);
  assert.equal(over.sink.body.toString(), 'abcdef');
  const chunked = await run(scripted([], [{ data: 'abc' }, { end: [] }]));
  assert.equal(chunked.sink.completeCalls, 0);
  assert.equal(chunked.sink.body.toString(), 'abc');
  const big = 'x'.repeat(SMALL_BODY_BYTES + 1);
  const large = await run(scripted([['content-length', String(big.length)]], [{ data: big }, { end: [] }]));
  assert.equal(large.sink.completeCalls, 0);
  assert.equal(large.sink.body.byteLength, big.length);
});

test('an upstream failure before the head is committed throws (the runner answers 502), nothing is sent', async () => {
  const failure = new SpookyError('upstream_reset', 'reset mid-body');
  await assert.rejects(run(scripted([['content-length', '10']], [{ data: 'hello' }, { error: failure }])), (err) => err === failure);
});

test('a streamed body that fails after its head resets the client stream', async () => {
  const { sink, ctx } = await run(scripted([], [{ data: 'abc' }, { error: new SpookyError('upstream_reset', 'reset') }]));
  assert.equal(sink.aborted, 'internal');
  assert.equal(ctx.outcome, 'upstream:reset_after_head');
});
