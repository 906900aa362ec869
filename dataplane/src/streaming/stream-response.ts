/**
 * streamResponse stage: commits the winning upstream response to the client and relays the
 * body with backpressure. Head: the upstream's status and end-to-end headers plus our
 * x-request-id; HEAD requests and 204/304 responses are sent with endStream (no body).
 * Body: each chunk is written to the sink; when write() returns false the upstream is paused
 * until the sink drains. Trailers are relayed with end(trailers). If the upstream fails after
 * the head was sent, the client stream is reset (abort 'internal') and the outcome records it.
 */
import { toSpookyError } from '../errors.ts';
import type { BodyConsumer, UpstreamResponse } from '../http/backend-transport.ts';
import type { HeaderList, ResponseSink } from '../http/exchange.ts';
import type { RequestContext } from '../pipeline/context.ts';
import { CONTINUE, type Stage, type StageResult } from '../pipeline/stage.ts';

export const streamResponse: Stage = {
  name: 'streamResponse',
  async run(ctx: RequestContext): Promise<StageResult> {
    const response = ctx.response;
    if (response === null) return CONTINUE;
    const sink = ctx.exchange.response;
    const headers = responseHeaders(response.headers, ctx.requestId);
    const bodyless = ctx.exchange.head.method === 'HEAD' || response.status === 204 || response.status === 304;
    ctx.status = response.status;
    if (sink.closed) {
      response.abort();
      ctx.outcome = 'client:aborted';
      return CONTINUE;
    }
    sink.sendHead(response.status, headers, bodyless);
    await new Promise<void>((resolve) => response.stream(relay(ctx, response, sink, bodyless, resolve)));
    return CONTINUE;
  },
};

/** Upstream response headers + our request id (the upstream's own x-request-id is replaced). */
function responseHeaders(upstream: HeaderList, requestId: string): HeaderList {
  const out: HeaderList = [];
  for (const entry of upstream) if (entry[0] !== 'x-request-id') out.push(entry);
  out.push(['x-request-id', requestId]);
  return out;
}

function relay(
  ctx: RequestContext,
  response: UpstreamResponse,
  sink: ResponseSink,
  bodyless: boolean,
  done: () => void,
): BodyConsumer {
  return {
    data(chunk) {
      if (bodyless) return true; // a body on HEAD/204/304 is dropped
      if (sink.closed) {
        queueMicrotask(() => response.abort()); // client gone: cancel the upstream
        return false;
      }
      ctx.bytesOut += chunk.byteLength;
      if (sink.write(chunk)) return true;
      sink.drain().then(
        () => {
          if (sink.closed) response.abort();
          else response.resume();
        },
        () => undefined,
      );
      return false;
    },
    end(trailers) {
      if (!bodyless && !sink.closed) sink.end(trailers.length > 0 ? trailers : undefined);
      done();
    },
    error(err) {
      const error = toSpookyError(err);
      if (ctx.exchange.signal.aborted || (error.code === 'client_aborted' && !ctx.signal.aborted)) {
        ctx.outcome = 'client:aborted';
        if (!sink.closed) sink.abort('cancel');
      } else if (error.code === 'request_timeout' || error.code === 'body_too_large' || error.code === 'client_body_timeout') {
        ctx.outcome = error.outcome;
        if (!sink.closed) sink.abort('internal');
      } else {
        ctx.outcome = error.code === 'upstream_timeout' ? 'upstream:body_timeout' : 'upstream:reset_after_head';
        if (!sink.closed) sink.abort('internal');
      }
      done();
    },
  };
}
