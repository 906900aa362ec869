/**
 * The control plane's spans: activation → push → answer, one trace per activation.
 *  - activation (INTERNAL, `activate <scope>` / `rollback <scope>`): one REST move of the active
 *    pointer (PUT …/active or POST …/rollback, not dry runs), from before the move to its
 *    commit. Attributes: spooky.scope, spooky.move, spooky.target (as asked: a seq, previous,
 *    lkg), spooky.generation_seq / _digest (where the pointer went), spooky.moved, spooky.actor;
 *    status ERROR with the error code when the move was refused.
 *  - push (CLIENT, `push <node id>`): one Push or Promote to one node, from when it is queued on
 *    the stream to that node's answer. Its parent is the scope's latest activation while that
 *    activation is in progress or when the push carries the generation it moved to; a push for
 *    anything else (a reconnect after a later rollout move, a staged rollout's assignment) is a
 *    trace of its own. Attributes: spooky.scope, spooky.node_id, spooky.boot_id,
 *    spooky.generation_seq / _digest, spooky.push.nonce, spooky.push.mode (serve | candidate |
 *    promote); at the end spooky.push.result (ack | nack | abandoned | closed | superseded) and
 *    an `ack` event (applied seq) or a `nack` event (phase, retryable, issue count); status
 *    ERROR for anything but an ack.
 * Nothing here is called when span export is off (main.ts passes no tracing).
 */
import { type Context, ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api';
import { createOtlpProvider, type OtlpProvider } from '@spooky/plumbing';
import type { Logger } from 'pino';
import type { TracingSettings } from '../settings/tracing-settings.ts';

export type MoveKind = 'activate' | 'rollback';
export type PushMode = 'serve' | 'candidate' | 'promote';
export type PushEnd = 'abandoned' | 'closed' | 'superseded';

/** One activation in progress; exactly one of its methods is called, once. */
export interface ActivationSpan {
  /** The move committed (or found the pointer there already: `moved` false). */
  moved(seq: number | null, digest: string | null, moved: boolean): void;
  /** The move was refused (precondition, unknown seq, rollout in progress, ...). */
  failed(code: string): void;
}

/** One push in flight; the first of its methods ends it, later calls are ignored. */
export interface PushSpan {
  acked(appliedSeq: number | null): void;
  nacked(facts: { readonly phase: string; readonly retryable: boolean; readonly issues: number }): void;
  /** No answer: abandoned after the push timeout, the stream closed, or a newer session took over. */
  ended(why: PushEnd): void;
}

export interface PushFacts {
  readonly scope: string;
  readonly nodeId: string;
  readonly bootId: string;
  readonly seq: number;
  readonly digest: string;
  readonly nonce: string;
  readonly mode: PushMode;
}

/** What the REST routes use (api/). */
export interface ActivationTracing {
  startActivation(scope: string, kind: MoveKind, target: string, actor: string): ActivationSpan;
}

/** What ConfigSync sessions use (distribution/). */
export interface PushTracing {
  startPush(facts: PushFacts): PushSpan;
}

interface ScopeActivation {
  /** null while the move is in progress. */
  seq: number | null;
  readonly context: Context;
}

export const INSTRUMENTATION = 'spooky-controlplane';

export class ControlPlaneTracing implements ActivationTracing, PushTracing {
  readonly #provider: OtlpProvider;
  readonly #tracer: Tracer;
  /** The latest activation per scope (kept after it ended: later pushes of its generation join its trace). */
  readonly #latest = new Map<string, ScopeActivation>();

  /** `provider` defaults to OTLP/HTTP export to `settings.endpoint` (tests pass one of their own). */
  constructor(settings: TracingSettings, logger: Logger, provider?: OtlpProvider) {
    const origin = new URL(settings.endpoint).origin;
    this.#provider =
      provider ??
      createOtlpProvider(
        settings,
        (report) => logger.warn({ endpoint: origin, failedBatches: report.batches, droppedSpans: report.spans, error: report.message }, 'tracing: span export failed'),
        INSTRUMENTATION,
      );
    this.#tracer = this.#provider.tracer;
    logger.info({ endpoint: origin, sampleRatio: settings.sampleRatio, serviceName: settings.serviceName }, 'tracing: span export on');
  }

  startActivation(scope: string, kind: MoveKind, target: string, actor: string): ActivationSpan {
    const span = this.#tracer.startSpan(`${kind} ${scope}`, {
      kind: SpanKind.INTERNAL,
      attributes: { 'spooky.scope': scope, 'spooky.move': kind, 'spooky.target': target, 'spooky.actor': actor },
    });
    const entry: ScopeActivation = { seq: null, context: trace.setSpan(ROOT_CONTEXT, span) };
    const previous = this.#latest.get(scope);
    this.#latest.set(scope, entry);
    let done = false;
    return {
      moved: (seq, digest, moved) => {
        if (done) return;
        done = true;
        entry.seq = seq;
        if (seq !== null) span.setAttribute('spooky.generation_seq', seq);
        if (digest !== null) span.setAttribute('spooky.generation_digest', digest);
        span.setAttribute('spooky.moved', moved);
        span.end();
      },
      failed: (code) => {
        if (done) return;
        done = true;
        // A refused move moved nothing: the scope's previous activation stays the one pushes join.
        if (this.#latest.get(scope) === entry) {
          if (previous === undefined) this.#latest.delete(scope);
          else this.#latest.set(scope, previous);
        }
        span.setStatus({ code: SpanStatusCode.ERROR, message: code });
        span.setAttribute('error.type', code);
        span.end();
      },
    };
  }

  startPush(facts: PushFacts): PushSpan {
    const activation = this.#latest.get(facts.scope);
    const parent = activation !== undefined && (activation.seq === null || activation.seq === facts.seq) ? activation.context : ROOT_CONTEXT;
    const span = this.#tracer.startSpan(
      `push ${facts.nodeId}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'spooky.scope': facts.scope,
          'spooky.node_id': facts.nodeId,
          'spooky.boot_id': facts.bootId,
          'spooky.generation_seq': facts.seq,
          'spooky.generation_digest': facts.digest,
          'spooky.push.nonce': facts.nonce,
          'spooky.push.mode': facts.mode,
        },
      },
      parent,
    );
    return new OnePush(span);
  }

  /** Exports what is queued (bounded by the export timeout) and stops; called once on shutdown. */
  close(): Promise<void> {
    return this.#provider.shutdown().catch(() => undefined);
  }

  /** Exports what is queued now (tests). */
  flush(): Promise<void> {
    return this.#provider.flush();
  }
}

class OnePush implements PushSpan {
  readonly #span: Span;
  #done = false;

  constructor(span: Span) {
    this.#span = span;
  }

  acked(appliedSeq: number | null): void {
    if (!this.#finish()) return;
    this.#span.addEvent('ack', appliedSeq === null ? {} : { 'spooky.applied_seq': appliedSeq });
    this.#span.setAttribute('spooky.push.result', 'ack');
    this.#span.end();
  }

  nacked(facts: { readonly phase: string; readonly retryable: boolean; readonly issues: number }): void {
    if (!this.#finish()) return;
    this.#span.addEvent('nack', { 'spooky.nack.phase': facts.phase, 'spooky.nack.retryable': facts.retryable, 'spooky.nack.issues': facts.issues });
    this.#span.setAttribute('spooky.push.result', 'nack');
    this.#span.setStatus({ code: SpanStatusCode.ERROR, message: `nack (${facts.phase})` });
    this.#span.end();
  }

  ended(why: PushEnd): void {
    if (!this.#finish()) return;
    this.#span.setAttribute('spooky.push.result', why);
    this.#span.setStatus({ code: SpanStatusCode.ERROR, message: why });
    this.#span.end();
  }

  #finish(): boolean {
    if (this.#done) return false;
    this.#done = true;
    return true;
  }
}
