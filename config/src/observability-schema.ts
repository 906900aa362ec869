/**
 * Input schema of `observability`: `tracing` = optional OpenTelemetry span export over
 * OTLP/HTTP. W3C traceparent propagation itself is the top-level `tracing` block
 * (forwarding-schema.ts); export builds on it (observability-checks.ts refuses export with
 * propagation off).
 */
import { Type } from '@sinclair/typebox';

const closed = { additionalProperties: false } as const;

export const TracingExportSchema = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean({ description: 'Export spans (request, upstream attempts) over OTLP/HTTP. Default false.' })),
    otlp_endpoint: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 2048,
        description: 'http(s) URL of the OTLP/HTTP traces endpoint; a URL without a path gets /v1/traces. Required when enabled.',
      }),
    ),
    sample_ratio: Type.Optional(
      Type.Number({ minimum: 0, maximum: 1, description: 'Share of new traces recorded (parent-based: an inbound sampled flag wins). Default 1.' }),
    ),
    service_name: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'service.name resource attribute. Default spooky-dataplane.' })),
  },
  closed,
);

export const ObservabilitySchema = Type.Object({ tracing: Type.Optional(TracingExportSchema) }, closed);
