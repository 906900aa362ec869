/**
 * @spooky/plumbing: process plumbing both planes use, with one contract for both — flag
 * fallbacks from environment variables, the loopback check behind every plaintext opt-out, and
 * OTLP span export with rate-limited failure reports. It knows neither plane nor the config and
 * wire contracts (.dependency-cruiser.cjs): callers map their own settings onto its parameters.
 */
export { type EnvMerge, type FlagEnv, type FlagOptions, type FlagValue, flagEnv } from './flag-env.ts';
export { isLoopbackHost } from './loopback-host.ts';
export { createOtlpProvider, type OtlpExportSettings, type OtlpProvider } from './otlp-provider.ts';
export { type ExportFailureReport, ReportingExporter } from './reporting-exporter.ts';
