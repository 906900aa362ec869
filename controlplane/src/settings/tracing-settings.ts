/**
 * Span export of the control plane, part of its startup settings (the control plane has no
 * config generation of its own; data planes take theirs from `observability.tracing`):
 *   --otlp-endpoint URL (SPOOKY_CP_OTLP_ENDPOINT): http(s) URL of the OTLP/HTTP traces
 *       endpoint (a URL without a path gets /v1/traces); absent = no spans (the default)
 *   --otlp-sample-ratio R (SPOOKY_CP_OTLP_SAMPLE_RATIO, default 1): share of activations traced
 *   --otlp-service-name NAME (SPOOKY_CP_OTLP_SERVICE_NAME, default spooky-controlplane)
 * Pure: a refusal is settings_invalid naming the flag or its variable; the URL is never echoed (it may carry a
 * user:password, which is refused).
 */
import { CpError } from '../errors.ts';
import { type FlagValue, sourceName } from './cp-flag-env.ts';

export interface TracingSettings {
  /** The traces endpoint posted to. */
  readonly endpoint: string;
  readonly sampleRatio: number;
  readonly serviceName: string;
}

export const TRACING_OPTIONS = {
  'otlp-endpoint': { type: 'string' },
  'otlp-sample-ratio': { type: 'string' },
  'otlp-service-name': { type: 'string' },
} as const;

export const TRACING_USAGE = '[--otlp-endpoint URL [--otlp-sample-ratio 1] [--otlp-service-name spooky-controlplane]]';

/** `values` has the SPOOKY_CP_* fallbacks merged in (cp-flag-env.ts); errors name the flag or variable the value came from. */
export function parseTracingSettings(values: Readonly<Record<string, FlagValue>>, fromEnv: ReadonlySet<string>): { readonly tracing: TracingSettings | null } {
  const pick = (flag: string): string | undefined => {
    const v = values[flag];
    return typeof v === 'string' ? v : undefined;
  };
  const src = (flag: string): string => sourceName(flag, fromEnv);
  const endpoint = pick('otlp-endpoint');
  if (endpoint === undefined || endpoint === '') return { tracing: null };
  const url = URL.canParse(endpoint) ? new URL(endpoint) : null;
  if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new CpError('settings_invalid', `${src('otlp-endpoint')} must be an http:// or https:// URL`);
  }
  if (url.username !== '' || url.password !== '') throw new CpError('settings_invalid', `${src('otlp-endpoint')} must not carry a user or password`);
  const ratioText = pick('otlp-sample-ratio') ?? '1';
  const sampleRatio = Number(ratioText);
  if (ratioText.trim() === '' || !Number.isFinite(sampleRatio) || sampleRatio < 0 || sampleRatio > 1) {
    throw new CpError('settings_invalid', `${src('otlp-sample-ratio')} must be a number from 0 to 1`);
  }
  const serviceName = pick('otlp-service-name') ?? 'spooky-controlplane';
  if (serviceName.length < 1 || serviceName.length > 128) throw new CpError('settings_invalid', `${src('otlp-service-name')} must be 1 to 128 characters`);
  const traces = url.pathname === '/' && url.search === '' ? `${url.origin}/v1/traces` : url.href;
  return { tracing: { endpoint: traces, sampleRatio, serviceName } };
}
