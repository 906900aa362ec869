/**
 * mirrorRequest stage: when the matched route has a `mirror`, sends a fire-and-forget copy of
 * the request to the mirror upstream (its own balancer picks the backend, the same
 * transports as real traffic carry it). It never affects the client's response:
 *  - the stage returns CONTINUE at once; the copy is never awaited by the request;
 *  - only requests without a body are copied (decide-mirror.ts), so the client's body is
 *    read by the real attempt alone;
 *  - the copy has its own deadline (`performance.request_timeout_ms`), not the client's
 *    signal, and is not cancelled when the client's request finishes;
 *  - its response body is drained and discarded; its failures are only published on
 *    `spooky:mirror` (counted, logged at debug by startMirrorLog) and in `counts`;
 *  - at most DEFAULT_MAX_MIRRORS_PER_UPSTREAM (64) copies per mirror upstream are in flight;
 *    beyond that the copy is skipped (`skipped:busy`).
 * The mirror setting of the route's upstream applies (not that of a traffic_split target).
 */
import { type SpookyError, toSpookyError } from '../errors.ts';
import { upstreamRequestHeaders, withHost } from '../forwarding/upstream-request-headers.ts';
import type { RequestContext } from '../pipeline/context.ts';
import { CONTINUE, type Stage, type StageResult } from '../pipeline/stage.ts';
import type { CompiledBackend, CompiledUpstream } from '../runtime/generation.ts';
import { decideMirror } from './decide-mirror.ts';
import { publishMirror } from './mirror-events.ts';
import { MirrorLimiter } from './mirror-limiter.ts';

export interface MirrorStageOptions {
  /** Uniform in [0, 1) for `percent` sampling; default Math.random. */
  readonly random?: () => number;
  readonly limiter?: MirrorLimiter;
}

export interface MirrorStage extends Stage {
  /** Mirror outcomes so far (`sent`, `ok`, `error:<code>`, `skipped:<why>`), for tests and admin. */
  readonly counts: ReadonlyMap<string, number>;
  /** Resolves when every copy sent so far has finished (tests; never needed on the request path). */
  idle(): Promise<void>;
}

export function createMirrorStage(options: MirrorStageOptions = {}): MirrorStage {
  const random = options.random ?? Math.random;
  const limiter = options.limiter ?? new MirrorLimiter();
  const counts = new Map<string, number>();
  const pending = new Set<Promise<void>>();

  function record(ctx: RequestContext, route: string, upstream: string, outcome: string, status: number | null): void {
    counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
    publishMirror({ requestId: ctx.requestId, route, upstream, outcome, status });
  }

  async function send(ctx: RequestContext, route: string, target: CompiledUpstream, index: number, backend: CompiledBackend): Promise<void> {
    const upstream = target.name;
    const head = ctx.exchange.head;
    // The mirror upstream's own forwarding policy (host policy included); a request without a
    // traceparent gets a trace of its own on the copy (the copy is not part of the client's trace).
    const forwarded = upstreamRequestHeaders(
      { head, protocol: ctx.exchange.protocol, remoteAddress: ctx.exchange.remoteAddress, requestId: ctx.requestId },
      target.forwarding,
    );
    const host = index === 0 ? undefined : target.forwarding.backendHosts?.[index];
    let outcome = 'ok';
    let status: number | null = null;
    try {
      const response = await backend.transport.forward({
        method: head.method,
        path: head.path,
        headers: host === undefined ? forwarded.headers : withHost(forwarded.headers, host),
        body: null,
        signal: AbortSignal.timeout(ctx.generation.config.performance.request_timeout_ms),
      });
      status = response.status;
      await new Promise<void>((resolve, reject) => response.stream({ data: () => true, end: () => resolve(), error: reject }));
    } catch (err) {
      const error: SpookyError = toSpookyError(err);
      outcome = `error:${error.code}`;
    } finally {
      limiter.release(upstream);
    }
    record(ctx, route, upstream, outcome, status);
  }

  return {
    name: 'mirrorRequest',
    counts,
    async idle() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
    run(ctx: RequestContext): StageResult {
      const route = ctx.route;
      const mirror = route?.mirror;
      if (route == null || mirror == null) return CONTINUE;
      const decision = decideMirror({
        percent: mirror.percent,
        hasBody: ctx.exchange.body !== null,
        roll: random(),
        slotFree: limiter.hasFree(mirror.upstream),
      });
      if (!decision.mirror) {
        record(ctx, route.upstream, mirror.upstream, decision.reason, null);
        return CONTINUE;
      }
      const target = ctx.generation.upstreams.get(mirror.upstream);
      const index = target === undefined ? null : pickMirrorBackend(ctx, target);
      const backend = index === null ? undefined : target?.backends[index];
      if (target === undefined || index === null || backend === undefined || !limiter.tryAcquire(mirror.upstream)) {
        record(ctx, route.upstream, mirror.upstream, backend === undefined ? 'skipped:no_backend' : 'skipped:busy', null);
        return CONTINUE;
      }
      counts.set('sent', (counts.get('sent') ?? 0) + 1);
      const copy = send(ctx, route.upstream, target, index, backend).catch(() => undefined);
      pending.add(copy);
      void copy.finally(() => pending.delete(copy));
      return CONTINUE;
    },
  };
}

/**
 * The mirror upstream's balancer over its available backends (health filter as for real
 * traffic). Mirror outcomes are not reported to health: a shadow never ejects a backend.
 */
function pickMirrorBackend(ctx: RequestContext, target: CompiledUpstream): number | null {
  return target.balancer.pick(target.candidates.current(), { exclude: null, request: ctx.exchange });
}

/** The stage in THE stage list: process-wide limiter, Math.random sampling. */
export const mirrorRequest: MirrorStage = createMirrorStage();
