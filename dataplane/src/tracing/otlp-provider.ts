/**
 * One OpenTelemetry tracer provider exporting over OTLP/HTTP (JSON) for one
 * `observability.tracing` setting. Sampling is parent-based: a request that came with a
 * sampled traceparent is recorded, one with the flag cleared is not, and a new trace is
 * recorded with probability `sample_ratio` (trace-id ratio, so every hop that applies the
 * same ratio agrees).
 *
 * Bounds (a slow or dead collector never reaches the request path): spans wait in the batch
 * processor's queue of MAX_QUEUE spans and are dropped when it is full; an export gives up
 * after EXPORT_TIMEOUT_MS; export failures are reported rate-limited (reporting-exporter.ts).
 * Starting and ending a span are synchronous, in-memory operations.
 */
import type { Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider } from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { TracingExport } from '@spooky/config';
import { type ExportFailureReport, ReportingExporter } from './reporting-exporter.ts';

/** Spans held for export at most; more are dropped (the SDK counts them). */
export const MAX_QUEUE = 2048;
const MAX_BATCH = 512;
const SCHEDULED_DELAY_MS = 1000;
const EXPORT_TIMEOUT_MS = 10_000;

export interface OtlpProvider {
  readonly tracer: Tracer;
  /** Exports what is queued (bounded by the export timeout), then stops; spans ended later are dropped. */
  shutdown(): Promise<void>;
  /** Exports what is queued now. */
  flush(): Promise<void>;
}

export function createOtlpProvider(
  settings: TracingExport & { readonly otlp_endpoint: string },
  onExportFailure: (report: ExportFailureReport) => void,
  instrumentation: string,
): OtlpProvider {
  const exporter = new ReportingExporter(new OTLPTraceExporter({ url: settings.otlp_endpoint, timeoutMillis: EXPORT_TIMEOUT_MS, concurrencyLimit: 4 }), onExportFailure);
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: settings.service_name }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(settings.sample_ratio) }),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter,
        maxQueueSize: MAX_QUEUE,
        maxExportBatchSize: MAX_BATCH,
        scheduledDelayMillis: SCHEDULED_DELAY_MS,
        exportTimeoutMillis: EXPORT_TIMEOUT_MS,
      }),
    ],
  });
  return {
    tracer: provider.getTracer(instrumentation),
    shutdown: () => provider.shutdown(),
    flush: () => provider.forceFlush(),
  };
}
