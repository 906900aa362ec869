/**
 * ReportingExporter: the OTLP exporter behind a SpanExporter that reports failed exports,
 * rate-limited: the first failure is reported at once, later ones at most once per
 * `intervalMs` as one line with how many batches and spans failed since the last line. Why:
 * an unreachable collector fails every batch (one per second at the default delay); one log
 * line per batch would flood the log for as long as it is down. The report names the
 * endpoint's origin only (both planes' settings validation refuses a user:password in it) and
 * the error's message, never span content.
 */
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';

export interface ExportFailureReport {
  /** Batches that failed since the previous report (this one included). */
  readonly batches: number;
  readonly spans: number;
  /** The last failure's message (the exporter's error, e.g. ECONNREFUSED or an HTTP status). */
  readonly message: string;
}

export class ReportingExporter implements SpanExporter {
  readonly #inner: SpanExporter;
  readonly #report: (report: ExportFailureReport) => void;
  readonly #intervalMs: number;
  readonly #now: () => number;
  #lastReportAt = Number.NEGATIVE_INFINITY;
  #batches = 0;
  #spans = 0;

  constructor(inner: SpanExporter, report: (report: ExportFailureReport) => void, intervalMs = 30_000, now: () => number = () => performance.now()) {
    this.#inner = inner;
    this.#report = report;
    this.#intervalMs = intervalMs;
    this.#now = now;
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.#inner.export(spans, (result) => {
      if (result.code !== ExportResultCode.SUCCESS) this.#failed(spans.length, result.error);
      resultCallback(result);
    });
  }

  shutdown(): Promise<void> {
    return this.#inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.#inner.forceFlush?.() ?? Promise.resolve();
  }

  #failed(spans: number, error: Error | undefined): void {
    this.#batches++;
    this.#spans += spans;
    const now = this.#now();
    if (now - this.#lastReportAt < this.#intervalMs) return;
    this.#lastReportAt = now;
    const report = { batches: this.#batches, spans: this.#spans, message: error?.message ?? 'export failed' };
    this.#batches = 0;
    this.#spans = 0;
    try {
      this.#report(report);
    } catch {
      // A reporting failure must not reach the SDK's export loop.
    }
  }
}
