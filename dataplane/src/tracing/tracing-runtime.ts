/**
 * TracingRuntime: which RequestTracer (if any) a generation's requests use, one per process
 * (the request handler's). Span export follows each generation's `observability.tracing`, so
 * turning it on or off, or changing the endpoint, ratio or service name, takes effect with
 * the generation that says so (no restart): the first request of a generation resolves its
 * tracer, later ones of the same generation take the cached answer (one reference compare).
 *
 * Providers are shared by setting: generations with the same setting use the same provider.
 * The two most recent settings are kept (a serving generation and an in-node canary's
 * candidate may differ); a third one shuts the oldest down (its queued spans are exported
 * first, bounded by the export timeout; spans of its requests still in flight are dropped).
 *
 * Disabled (the default): tracerFor answers null and nothing of the SDK is created.
 */
import { createOtlpProvider, type OtlpProvider } from '@spooky/plumbing';
import type { Logger } from 'pino';
import type { Generation } from '../runtime/generation.ts';
import { RequestTracer } from './request-spans.ts';

interface Held {
  readonly key: string;
  readonly provider: OtlpProvider;
  readonly tracer: RequestTracer;
}

/** How long close() waits for the last exports. */
export const CLOSE_BOUND_MS = 2000;

/** The instrumentation scope name of the data plane's spans. */
export const INSTRUMENTATION = 'spooky-dataplane';

export class TracingRuntime {
  readonly #logger: Logger;
  /** Most recent first; at most two. */
  #held: Held[] = [];
  #lastGeneration: Generation | null = null;
  #lastTracer: RequestTracer | null = null;
  #closed = false;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** The tracer for requests of `generation`; null when its span export is off (or the runtime is closed). */
  tracerFor(generation: Generation): RequestTracer | null {
    if (generation === this.#lastGeneration) return this.#lastTracer;
    const tracer = this.#resolve(generation);
    this.#lastGeneration = generation;
    this.#lastTracer = tracer;
    return tracer;
  }

  /** Exports what is queued on every provider (tests, shutdown). */
  async flush(): Promise<void> {
    await Promise.all(this.#held.map((h) => h.provider.flush().catch(() => undefined)));
  }

  /**
   * Exports what is queued, then stops every provider; tracerFor answers null afterwards.
   * Resolves after at most `boundMs` (a collector that does not answer must not hold up a
   * worker's exit; what was not sent by then is lost).
   */
  async close(boundMs = CLOSE_BOUND_MS): Promise<void> {
    this.#closed = true;
    this.#lastGeneration = null;
    this.#lastTracer = null;
    const held = this.#held;
    this.#held = [];
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(held.map((h) => h.provider.shutdown().catch(() => undefined))),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, boundMs);
      }),
    ]);
    clearTimeout(timer);
  }

  #resolve(generation: Generation): RequestTracer | null {
    const settings = generation.config.observability.tracing;
    const endpoint = settings.otlp_endpoint;
    if (this.#closed || !settings.enabled || endpoint === null) {
      if (this.#lastTracer !== null) this.#logger.info({ seq: generation.ref?.seq ?? null }, 'tracing: span export off');
      return null;
    }
    const key = JSON.stringify([endpoint, settings.sample_ratio, settings.service_name]);
    const found = this.#held.find((h) => h.key === key);
    if (found !== undefined) {
      this.#held = [found, ...this.#held.filter((h) => h !== found)];
      return found.tracer;
    }
    const origin = new URL(endpoint).origin;
    const provider = createOtlpProvider(
      { endpoint, sampleRatio: settings.sample_ratio, serviceName: settings.service_name },
      (report) => this.#logger.warn({ endpoint: origin, failedBatches: report.batches, droppedSpans: report.spans, error: report.message }, 'tracing: span export failed'),
      INSTRUMENTATION,
    );
    const held: Held = { key, provider, tracer: new RequestTracer(provider.tracer) };
    const [keep, ...old] = this.#held;
    this.#held = keep === undefined ? [held] : [held, keep];
    for (const h of old) void h.provider.shutdown().catch(() => undefined);
    this.#logger.info(
      { seq: generation.ref?.seq ?? null, endpoint: origin, sampleRatio: settings.sample_ratio, serviceName: settings.service_name },
      'tracing: span export on',
    );
    return held.tracer;
  }
}
