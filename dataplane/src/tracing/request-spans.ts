/**
 * The data plane's spans: one SERVER span per request (RequestSpan) and one CLIENT span per
 * upstream try (AttemptSpan), a child of its request's span. The try's span context is what
 * goes upstream in `traceparent` (`AttemptSpan.traceparent`), so the origin's spans join the
 * same trace under the try that reached it.
 *
 * The request span's parent is a valid inbound traceparent (remote, its flags and tracestate
 * kept), else none (a new trace). Sampling is the provider's (@spooky/plumbing's
 * otlp-provider.ts): an unsampled request still gets span ids (non-recording spans) so what
 * goes upstream is well-formed, with the sampled flag cleared.
 *
 * Attributes — request: http.request.method, network.protocol.name/version, spooky.request_id,
 * server.address (the request host), http.response.status_code, spooky.outcome (the closed
 * reason vocabulary), spooky.upstream, spooky.generation_seq, spooky.attempts; status ERROR on
 * a 5xx (error.type = the outcome). Try: spooky.upstream, spooky.backend, server.address (the
 * backend's address), spooky.attempt.index, spooky.attempt.role (primary | retry | hedge),
 * http.request.resend_count (retries and hedges), http.response.status_code when a head came,
 * spooky.attempt.result (the head's status, the failure's code, or `cancelled`); status ERROR
 * on a failure or a 5xx head.
 *
 * Built only when span export is on (tracing-runtime.ts hands out null otherwise): nothing
 * here runs, and nothing is allocated, for requests of a generation without export.
 */
import {
  type Context,
  createTraceState,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_RESEND_COUNT,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_NETWORK_PROTOCOL_NAME,
  ATTR_NETWORK_PROTOCOL_VERSION,
  ATTR_SERVER_ADDRESS,
} from '@opentelemetry/semantic-conventions';
import type { ClientProtocol } from '../http/exchange.ts';
import { isValidTraceparent } from '../http/trace-context.ts';

/** Why a try was sent: the first, a retry after a failed or retried try, or a hedge racing the first. */
export type AttemptRole = 'primary' | 'retry' | 'hedge';

const PROTOCOL_VERSION: Readonly<Record<ClientProtocol, string>> = { h3: '3', h2: '2', 'http/1.1': '1.1' };

export interface RequestStart {
  readonly method: string;
  readonly protocol: ClientProtocol;
  readonly requestId: string;
  /** performance.now() at accept (the span starts then). */
  readonly startedAt: number;
  /** The single inbound traceparent value; null when absent or sent more than once. */
  readonly traceparent: string | null;
  /** Inbound tracestate values joined; null = none. */
  readonly tracestate: string | null;
}

export interface RequestEnd {
  readonly host: string | null;
  readonly status: number;
  readonly outcome: string;
  readonly upstream: string | null;
  readonly generationSeq: number;
  readonly attempts: number;
}

export interface AttemptStart {
  readonly upstream: string;
  readonly backendId: string;
  readonly backendAddress: string;
  readonly index: number;
  readonly role: AttemptRole;
  readonly method: string;
}

/** The traceparent header value naming `sc`. */
export function traceparentOf(sc: SpanContext): string {
  return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED ? '01' : '00'}`;
}

/** The remote parent an inbound traceparent names, as a context to start the request span in; ROOT_CONTEXT when none is valid. */
export function parentContext(traceparent: string | null, tracestate: string | null): Context {
  if (traceparent === null || !isValidTraceparent(traceparent)) return ROOT_CONTEXT;
  const parent: SpanContext = {
    traceId: traceparent.slice(3, 35),
    spanId: traceparent.slice(36, 52),
    traceFlags: Number.parseInt(traceparent.slice(53, 55), 16) & TraceFlags.SAMPLED,
    isRemote: true,
    ...(tracestate === null ? {} : { traceState: createTraceState(tracestate) }),
  };
  return trace.setSpanContext(ROOT_CONTEXT, parent);
}

/** Starts request spans on one SDK tracer (one per export setting). */
export class RequestTracer {
  readonly #tracer: Tracer;

  constructor(tracer: Tracer) {
    this.#tracer = tracer;
  }

  startRequest(start: RequestStart): RequestSpan {
    const span = this.#tracer.startSpan(
      start.method,
      {
        kind: SpanKind.SERVER,
        startTime: start.startedAt,
        attributes: {
          [ATTR_HTTP_REQUEST_METHOD]: start.method,
          [ATTR_NETWORK_PROTOCOL_NAME]: 'http',
          [ATTR_NETWORK_PROTOCOL_VERSION]: PROTOCOL_VERSION[start.protocol],
          'spooky.request_id': start.requestId,
        },
      },
      parentContext(start.traceparent, start.tracestate),
    );
    return new RequestSpan(this.#tracer, span, start.method);
  }
}

export class RequestSpan {
  /** The trace id (32 hex): the inbound one, or the new trace's. */
  readonly traceId: string;
  /** This span as a traceparent (for what goes upstream without a try of its own: tunnels). */
  readonly traceparent: string;
  readonly #tracer: Tracer;
  readonly #span: Span;
  readonly #context: Context;
  readonly #method: string;
  #ended = false;

  constructor(tracer: Tracer, span: Span, method: string) {
    this.#tracer = tracer;
    this.#span = span;
    this.#method = method;
    const sc = span.spanContext();
    this.traceId = sc.traceId;
    this.traceparent = traceparentOf(sc);
    this.#context = trace.setSpan(ROOT_CONTEXT, span);
  }

  /** A child CLIENT span for one try, started now. */
  startAttempt(start: AttemptStart): AttemptSpan {
    const attributes: Record<string, string | number> = {
      'spooky.upstream': start.upstream,
      'spooky.backend': start.backendId,
      [ATTR_SERVER_ADDRESS]: start.backendAddress,
      'spooky.attempt.index': start.index,
      'spooky.attempt.role': start.role,
      [ATTR_HTTP_REQUEST_METHOD]: start.method,
    };
    if (start.index > 0) attributes[ATTR_HTTP_REQUEST_RESEND_COUNT] = start.index;
    return new AttemptSpan(this.#tracer.startSpan(`${start.method} ${start.upstream}`, { kind: SpanKind.CLIENT, attributes }, this.#context));
  }

  /** Ends the request span with its outcome; only the first call counts. */
  end(facts: RequestEnd): void {
    if (this.#ended) return;
    this.#ended = true;
    const span = this.#span;
    if (facts.upstream !== null) {
      span.updateName(`${this.#method} ${facts.upstream}`);
      span.setAttribute('spooky.upstream', facts.upstream);
    }
    if (facts.host !== null) span.setAttribute(ATTR_SERVER_ADDRESS, facts.host);
    span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, facts.status);
    span.setAttribute('spooky.outcome', facts.outcome);
    span.setAttribute('spooky.generation_seq', facts.generationSeq);
    span.setAttribute('spooky.attempts', facts.attempts);
    if (facts.status >= 500) {
      span.setAttribute(ATTR_ERROR_TYPE, facts.outcome);
      span.setStatus({ code: SpanStatusCode.ERROR, message: facts.outcome });
    }
    span.end();
  }
}

export class AttemptSpan {
  /** The traceparent sent upstream on this try: this span's context. */
  readonly traceparent: string;
  readonly #span: Span;

  constructor(span: Span) {
    this.#span = span;
    this.traceparent = traceparentOf(span.spanContext());
  }

  /** Ends the try's span: `status` the head's (null: none came), `errorCode` the failure's (null: none). */
  end(status: number | null, errorCode: string | null): void {
    const span = this.#span;
    if (status !== null) span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
    span.setAttribute('spooky.attempt.result', errorCode ?? (status === null ? 'cancelled' : String(status)));
    if (errorCode !== null || (status !== null && status >= 500)) {
      if (errorCode !== null) span.setAttribute(ATTR_ERROR_TYPE, errorCode);
      span.setStatus({ code: SpanStatusCode.ERROR, ...(errorCode === null ? {} : { message: errorCode }) });
    }
    span.end();
  }
}
