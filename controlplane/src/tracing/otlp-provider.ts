/**
 * The control plane's OpenTelemetry tracer provider, exporting over OTLP/HTTP (JSON) to
 * `--otlp-endpoint`. Sampling is parent-based with a trace-id ratio root (`--otlp-sample-ratio`):
 * an activation's trace is recorded or not as a whole.
 *
 * Bounds (a slow or dead collector never reaches the request path): spans wait in the batch
 * processor's queue of MAX_QUEUE spans and are dropped when it is full; an export gives up
 * after EXPORT_TIMEOUT_MS; export failures are reported rate-limited (reporting-exporter.ts), so
 * a dead collector never slows an activation or a push.
 * Starting and ending a span are synchronous, in-memory operations. (The data plane has its own
 * copy, dataplane/src/tracing/otlp-provider.ts: the planes share no code but config/ and proto/.)
 */
import type { Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider } from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { TracingSettings } from '../settings/tracing-settings.ts';
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

export function createOtlpProvider(settings: TracingSettings, onExportFailure: (report: ExportFailureReport) => void, instrumentation: string): OtlpProvider {
  const exporter = new ReportingExporter(new OTLPTraceExporter({ url: settings.endpoint, timeoutMillis: EXPORT_TIMEOUT_MS, concurrencyLimit: 4 }), onExportFailure);
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: settings.serviceName }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(settings.sampleRatio) }),
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
