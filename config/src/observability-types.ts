/** Normalized `observability` block (defaults filled; see normalize-observability.ts). */

export interface TracingExport {
  readonly enabled: boolean;
  /** The traces endpoint as sent to (a bare origin got /v1/traces); null when not set. */
  readonly otlp_endpoint: string | null;
  /** 0–1: share of new traces (no inbound traceparent) that are recorded and exported. */
  readonly sample_ratio: number;
  readonly service_name: string;
}

export interface Observability {
  readonly tracing: TracingExport;
}
