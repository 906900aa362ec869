/**
 * Startup settings of the control-plane process, from argv with env fallbacks:
 *   --db PATH (SPOOKY_CP_DB)  --http HOST:PORT (SPOOKY_CP_HTTP)  --grpc HOST:PORT (SPOOKY_CP_GRPC)
 *   --tokens FILE (SPOOKY_CP_TOKENS)  --log-level LEVEL (SPOOKY_CP_LOG_LEVEL, default info)
 *   --report-interval-ms N (SPOOKY_CP_REPORT_INTERVAL_MS, default 10000): how often data planes report
 *   --sse-max-subscribers N (SPOOKY_CP_SSE_MAX_SUBSCRIBERS, default 1000): GET /v1/events streams open at once
 *   REST transport: --http-tls-cert/--http-tls-key/--http-client-ca/--allow-insecure-http, see http-tls-settings.ts
 *   gRPC transport: --grpc-tls-cert/--grpc-tls-key/--grpc-client-ca/--allow-insecure-grpc, see grpc-tls-settings.ts
 *   span export: --otlp-endpoint/--otlp-sample-ratio/--otlp-service-name, see tracing-settings.ts
 * Port 0 = any free port. Pure: throws settings_invalid with a one-line message.
 */
import { parseArgs } from 'node:util';
import { CpError } from '../errors.ts';
import { GRPC_TLS_OPTIONS, GRPC_TLS_USAGE, type GrpcTlsFiles, parseGrpcTransport } from './grpc-tls-settings.ts';
import { HTTP_TLS_OPTIONS, HTTP_TLS_USAGE, type HttpTlsFiles, parseHttpTransport } from './http-tls-settings.ts';
import { parseTracingSettings, TRACING_OPTIONS, TRACING_USAGE, type TracingSettings } from './tracing-settings.ts';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export interface Settings {
  readonly dbPath: string;
  readonly http: HostPort;
  readonly grpc: HostPort;
  readonly tokensFile: string;
  readonly logLevel: string;
  /** Report interval asked of data planes; three missed reports make a node stale. */
  readonly reportIntervalMs: number;
  readonly sseMaxSubscribers: number;
  /** REST over HTTPS (and mTLS when clientCaFile is set); null = plaintext, loopback unless allowInsecureHttp. */
  readonly httpTls: HttpTlsFiles | null;
  readonly allowInsecureHttp: boolean;
  /** gRPC over mutual TLS with node identity; null = plaintext, loopback unless allowInsecureGrpc. */
  readonly grpcTls: GrpcTlsFiles | null;
  readonly allowInsecureGrpc: boolean;
  /** OTLP span export (activation → push → ack); null = off. */
  readonly tracing: TracingSettings | null;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export const USAGE =
  'usage: main.ts --db PATH --http HOST:PORT --grpc HOST:PORT --tokens FILE [--log-level info] [--report-interval-ms 10000] [--sse-max-subscribers 1000] ' + HTTP_TLS_USAGE + ' ' + GRPC_TLS_USAGE + ' ' + TRACING_USAGE;

export function parseSettings(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Settings {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        db: { type: 'string' },
        http: { type: 'string' },
        grpc: { type: 'string' },
        tokens: { type: 'string' },
        'log-level': { type: 'string' },
        'report-interval-ms': { type: 'string' },
        'sse-max-subscribers': { type: 'string' },
        ...HTTP_TLS_OPTIONS,
        ...GRPC_TLS_OPTIONS,
        ...TRACING_OPTIONS,
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    throw new CpError('settings_invalid', `${(err as Error).message}; ${USAGE}`);
  }
  const pick = (flag: string, envName: string): string | undefined => {
    const v = values[flag];
    return typeof v === 'string' ? v : env[envName];
  };
  const required = (flag: string, envName: string): string => {
    const v = pick(flag, envName);
    if (v === undefined || v === '') throw new CpError('settings_invalid', `--${flag} (or ${envName}) is required; ${USAGE}`);
    return v;
  };
  const logLevel = pick('log-level', 'SPOOKY_CP_LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new CpError('settings_invalid', `--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  }
  const reportText = pick('report-interval-ms', 'SPOOKY_CP_REPORT_INTERVAL_MS') ?? '10000';
  const reportIntervalMs = Number(reportText);
  if (!/^\d+$/.test(reportText) || reportIntervalMs < 100 || reportIntervalMs > 3_600_000) {
    throw new CpError('settings_invalid', '--report-interval-ms must be an integer from 100 to 3600000');
  }
  const sseText = pick('sse-max-subscribers', 'SPOOKY_CP_SSE_MAX_SUBSCRIBERS') ?? '1000';
  const sseMaxSubscribers = Number(sseText);
  if (!/^\d+$/.test(sseText) || sseMaxSubscribers < 1 || sseMaxSubscribers > 100_000) {
    throw new CpError('settings_invalid', '--sse-max-subscribers must be an integer from 1 to 100000');
  }
  const http = parseHostPort('http', required('http', 'SPOOKY_CP_HTTP'));
  const grpc = parseHostPort('grpc', required('grpc', 'SPOOKY_CP_GRPC'));
  return {
    reportIntervalMs,
    sseMaxSubscribers,
    dbPath: required('db', 'SPOOKY_CP_DB'),
    http,
    ...parseHttpTransport(values, env, http.host),
    grpc,
    ...parseGrpcTransport(values, env, grpc.host),
    ...parseTracingSettings(values, env),
    tokensFile: required('tokens', 'SPOOKY_CP_TOKENS'),
    logLevel,
  };
}

/** `HOST:PORT` or `[v6]:PORT`; port 0..65535. */
export function parseHostPort(flag: string, value: string): HostPort {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (!host || !Number.isInteger(port) || port > 65535) {
    throw new CpError('settings_invalid', `--${flag} must be HOST:PORT (got ${JSON.stringify(value)})`);
  }
  return { host, port };
}
