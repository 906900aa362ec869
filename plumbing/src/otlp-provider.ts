/**
 * One OpenTelemetry tracer provider exporting over OTLP/HTTP (JSON) to one endpoint, for either
 * plane: the data plane makes one per `observability.tracing` setting of its generations
 * (dataplane/src/tracing/tracing-runtime.ts), the control plane one from its `--otlp-*` flags
 * (controlplane/src/tracing/control-plane-tracing.ts). Sampling is parent-based: a span whose
 * parent came sampled is recorded, one whose parent has the flag cleared is not, and a new
 * trace is recorded with probability `sampleRatio` (trace-id ratio, so every hop that applies
 * the same ratio agrees, and a trace is recorded or not as a whole).
 *
 * Bounds (a slow or dead collector never slows a request, an activation or a push): spans wait
 * in the batch processor's queue of MAX_QUEUE spans and are dropped when it is full; an export
 * gives up after EXPORT_TIMEOUT_MS; export failures are reported rate-limited
 * (reporting-exporter.ts).
 * Starting and ending a span are synchronous, in-memory operations.
 */
import type { Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider } from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { type ExportFailureReport, ReportingExporter } from './reporting-exporter.ts';

/** Spans held for export at most; more are dropped (the SDK counts them). */
export const MAX_QUEUE = 2048;
const MAX_BATCH = 512;
const SCHEDULED_DELAY_MS = 1000;
const EXPORT_TIMEOUT_MS = 10_000;

/** Where and how spans are exported (the caller has validated them). */
export interface OtlpExportSettings {
  /** The OTLP/HTTP traces URL posted to (never logged: the caller refuses a user:password in it). */
  readonly endpoint: string;
  /** Probability, 0 to 1, that a new trace is recorded. */
  readonly sampleRatio: number;
  /** The `service.name` resource attribute. */
  readonly serviceName: string;
}

export interface OtlpProvider {
  readonly tracer: Tracer;
  /** Exports what is queued (bounded by the export timeout), then stops; spans ended later are dropped. */
  shutdown(): Promise<void>;
  /** Exports what is queued now; rejects when that export fails (it is reported as well). */
  flush(): Promise<void>;
}

/**
 * A provider for `settings` whose tracer has the instrumentation scope `instrumentation`;
 * `onExportFailure` is called for failed exports, rate-limited (ReportingExporter).
 */
export function createOtlpProvider(settings: OtlpExportSettings, onExportFailure: (report: ExportFailureReport) => void, instrumentation: string): OtlpProvider {
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
