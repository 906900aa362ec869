/**
 * Startup settings from the command line and the environment (pure: argv and env in, settings
 * or an error message out).
 *
 * Control-plane mode:
 *   --control-plane HOST:PORT --node-id ID --scope SCOPE --cache-dir DIR --admin HOST:PORT
 *   [--label k=v]... [--log-level info] [--drain-timeout-ms 5000]
 *   [--cache-grace-ms 2000] [--cache-max-age 24h]
 *   [--ca-file FILE --cert FILE --key FILE] [--allow-insecure-grpc]: the ConfigSync transport,
 *   mutual TLS; required for a non-loopback --control-plane (control-tls.ts)
 * Standalone mode (no control plane; serves one config file):
 *   --config FILE --admin HOST:PORT [--log-level info] [--drain-timeout-ms 5000]
 * Both: [--max-generation-memory-mb 1024] [--workers N] [--no-supervise]
 *
 * Every flag has an environment fallback, `--flag-name` → `SPOOKY_DP_FLAG_NAME`
 * (`SPOOKY_DP_LABEL=zone=a,rack=r1` for the repeatable `--label`, `SPOOKY_DP_NO_SUPERVISE=1` for
 * a switch): the flag wins, an empty variable is unset, and a bad value is an error naming the
 * variable (@spooky/plumbing's flag-env.ts). A value from the environment counts as given: it
 * clashes, and it wins over the served generation (`--log-level`, `--drain-timeout-ms`),
 * exactly as the flag.
 *
 * `--workers N` (1..1024): serving processes on this host, default the number of cores
 * (`os.availableParallelism()`, passed in so this stays pure). `--no-supervise` serves in the
 * one process (no workers), so it cannot be combined with `--workers` above 1.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { type FlagValue, flagEnv } from '@spooky/plumbing';
import { DEFAULT_MAX_GENERATION_MEMORY_MB } from '../apply/generation-budget.ts';
import { LOG_LEVELS, type LogLevel } from '../observability/logger.ts';
import { CONTROL_TLS_OPTIONS, CONTROL_TLS_USAGE, type ControlTlsFiles, decideControlTls } from './control-tls.ts';

/** The SPOOKY_DP_* fallback rules (the control plane's SPOOKY_CP_* follow the same ones). */
const { envNameOf, mergeEnvFallbacks, sourceName } = flagEnv('SPOOKY_DP');

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

interface Common {
  readonly admin: HostPort;
  readonly logLevel: LogLevel;
  /** `--log-level` (or SPOOKY_DP_LOG_LEVEL) was given: it wins over the served generation's `log.level`. */
  readonly logLevelFromFlag: boolean;
  /** How long shutdown lets in-flight requests finish (`--drain-timeout-ms`, default 5000). */
  readonly drainTimeoutMs: number;
  /** `--drain-timeout-ms` (or its variable) was given: it wins over the served generation's `performance.shutdown_drain_timeout_ms`. */
  readonly drainTimeoutFromFlag: boolean;
  /** Memory budget of one generation, bytes (`--max-generation-memory-mb`, apply/generation-budget.ts). */
  readonly maxGenerationBytes: number;
  /** False with `--no-supervise`: serve in this process, no cluster workers (debugging). */
  readonly supervise: boolean;
  /** Serving worker processes (`--workers`); 1 with `--no-supervise`. */
  readonly workers: number;
}

export interface ControlPlaneSettings extends Common {
  readonly mode: 'control-plane';
  /** host:port as given (gRPC target). */
  readonly controlPlane: string;
  readonly nodeId: string;
  readonly scope: string;
  readonly cacheDir: string;
  readonly labels: Record<string, string>;
  /** How long boot waits for the control plane's first generation before reading the disk cache. */
  readonly cacheGraceMs: number;
  /** A disk cache older than this is not served. */
  readonly cacheMaxAgeMs: number;
  /** Mutual TLS to the control plane; null = plaintext (loopback, or --allow-insecure-grpc). */
  readonly controlTls: ControlTlsFiles | null;
}

export interface StandaloneSettings extends Common {
  readonly mode: 'standalone';
  readonly configFile: string;
}

export type Settings = ControlPlaneSettings | StandaloneSettings;

export type FlagsResult = { readonly ok: true; readonly settings: Settings } | { readonly ok: false; readonly error: string };

export const USAGE = `usage:
  node dataplane/src/main.ts --control-plane HOST:PORT --node-id ID --scope SCOPE --cache-dir DIR --admin HOST:PORT [--label k=v]... [--log-level LEVEL] [--drain-timeout-ms MS] [--cache-grace-ms MS] [--cache-max-age 24h] ${CONTROL_TLS_USAGE}
  node dataplane/src/main.ts --config FILE --admin HOST:PORT [--log-level LEVEL] [--drain-timeout-ms MS]
both: [--max-generation-memory-mb MB] [--workers N (default: cores)] [--no-supervise]
every --flag-name may be given as SPOOKY_DP_FLAG_NAME instead (the flag wins)`;

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9_./-]{0,62}$/;

/** Every flag the data plane takes (parseArgs options); each has its SPOOKY_DP_* variable. */
export const DATAPLANE_OPTIONS = {
  'control-plane': { type: 'string' },
  'node-id': { type: 'string' },
  scope: { type: 'string' },
  'cache-dir': { type: 'string' },
  admin: { type: 'string' },
  label: { type: 'string', multiple: true },
  'log-level': { type: 'string' },
  config: { type: 'string' },
  'drain-timeout-ms': { type: 'string' },
  'cache-grace-ms': { type: 'string' },
  'cache-max-age': { type: 'string' },
  'max-generation-memory-mb': { type: 'string' },
  'no-supervise': { type: 'boolean' },
  workers: { type: 'string' },
  ...CONTROL_TLS_OPTIONS,
} as const;

/** [flag, variable] for every flag, in the option table's order (README's flags table lists them). */
export const DATAPLANE_ENV: readonly (readonly [string, string])[] = Object.keys(DATAPLANE_OPTIONS).map((flag) => [flag, envNameOf(flag)] as const);

/** `env` supplies the SPOOKY_DP_* fallbacks (main passes process.env). */
export function parseFlags(
  argv: readonly string[],
  cores: number = availableParallelism(),
  env: Readonly<Record<string, string | undefined>> = {},
): FlagsResult {
  let parsed: Record<string, FlagValue>;
  try {
    ({ values: parsed } = parseArgs({ args: [...argv], strict: true, allowPositionals: false, options: DATAPLANE_OPTIONS }));
  } catch (err) {
    return fail((err as Error).message);
  }
  const merged = mergeEnvFallbacks(parsed, DATAPLANE_OPTIONS, env);
  if (!merged.ok) return fail(merged.error);
  const { values, fromEnv } = merged;
  /** `--flag` or SPOOKY_DP_FLAG: where the value an error is about came from. */
  const src = (flag: string): string => sourceName(flag, fromEnv);
  const str = (name: string): string | undefined => values[name] as string | undefined;

  const adminText = str('admin');
  if (adminText === undefined) return fail('--admin HOST:PORT (or SPOOKY_DP_ADMIN) is required');
  const admin = parseHostPort(adminText);
  if (!admin) return fail(`${src('admin')}: expected HOST:PORT, got "${adminText}"`);

  const logLevel = str('log-level') ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) return fail(`${src('log-level')}: one of ${LOG_LEVELS.join(', ')}`);

  const drainText = str('drain-timeout-ms') ?? '5000';
  const drainTimeoutMs = Number(drainText);
  if (!Number.isInteger(drainTimeoutMs) || drainTimeoutMs < 0 || drainTimeoutMs > 600_000) {
    return fail(`${src('drain-timeout-ms')}: an integer from 0 to 600000`);
  }
  const budgetMb = Number(str('max-generation-memory-mb') ?? String(DEFAULT_MAX_GENERATION_MEMORY_MB));
  if (!Number.isInteger(budgetMb) || budgetMb < 1 || budgetMb > 1_048_576) {
    return fail(`${src('max-generation-memory-mb')}: an integer from 1 to 1048576`);
  }
  const supervise = values['no-supervise'] !== true;
  const workersText = str('workers');
  const workers = workersText === undefined ? (supervise ? Math.max(1, Math.min(1024, cores)) : 1) : Number(workersText);
  if (!/^\d{1,4}$/.test(workersText ?? '1') || !Number.isInteger(workers) || workers < 1 || workers > 1024) {
    return fail(`${src('workers')}: an integer from 1 to 1024`);
  }
  if (!supervise && workers > 1) return fail(`${src('no-supervise')} serves in one process: it cannot be combined with ${src('workers')} above 1`);
  const common = {
    admin,
    logLevel: logLevel as LogLevel,
    logLevelFromFlag: str('log-level') !== undefined,
    drainTimeoutMs,
    drainTimeoutFromFlag: str('drain-timeout-ms') !== undefined,
    maxGenerationBytes: budgetMb * 1048576,
    supervise,
    workers,
  };

  const configFile = str('config');
  if (configFile !== undefined) {
    const clash = ['control-plane', 'node-id', 'scope', 'cache-dir', 'label', 'cache-grace-ms', 'cache-max-age', ...Object.keys(CONTROL_TLS_OPTIONS)].filter((n) => values[n] !== undefined);
    if (clash.length > 0) return fail(`${src('config')} (standalone) cannot be combined with ${clash.map(src).join(', ')}`);
    if (configFile === '') return fail('--config: a file path is required');
    return { ok: true, settings: { mode: 'standalone', configFile, ...common } };
  }

  const missing = ['control-plane', 'node-id', 'scope', 'cache-dir'].filter((n) => !str(n));
  if (missing.length > 0) return fail(`missing ${missing.map((n) => `--${n} (or ${envNameOf(n)})`).join(', ')} (or give --config FILE for standalone mode)`);
  const controlPlane = str('control-plane') as string;
  const controlPlaneAddress = parseHostPort(controlPlane);
  if (!controlPlaneAddress) return fail(`${src('control-plane')}: expected HOST:PORT, got "${controlPlane}"`);
  const transport = decideControlTls(values, env, controlPlaneAddress.host);
  if (!transport.ok) return fail(transport.error);
  const nodeId = str('node-id') as string;
  if (!NAME.test(nodeId)) return fail(`${src('node-id')}: 1-128 characters of A-Z a-z 0-9 _ . : -`);
  const scope = str('scope') as string;
  if (!NAME.test(scope)) return fail(`${src('scope')}: 1-128 characters of A-Z a-z 0-9 _ . : -`);

  const labels: Record<string, string> = {};
  for (const pair of (values['label'] as string[] | undefined) ?? []) {
    const eq = pair.indexOf('=');
    const key = eq > 0 ? pair.slice(0, eq) : '';
    if (!LABEL_KEY.test(key)) return fail(`${src('label')}: expected k=v with a key of A-Z a-z 0-9 _ . / -, got "${pair}"`);
    if (Object.hasOwn(labels, key)) return fail(`${src('label')}: "${key}" given twice`);
    labels[key] = pair.slice(eq + 1);
  }
  const cacheGraceMs = Number(str('cache-grace-ms') ?? '2000');
  if (!Number.isInteger(cacheGraceMs) || cacheGraceMs < 0 || cacheGraceMs > 600_000) {
    return fail(`${src('cache-grace-ms')}: an integer from 0 to 600000`);
  }
  const maxAgeText = str('cache-max-age') ?? '24h';
  const cacheMaxAgeMs = parseDurationMs(maxAgeText);
  if (cacheMaxAgeMs === null) return fail(`${src('cache-max-age')}: a duration like 30s, 10m, 24h or 7d, got "${maxAgeText}"`);
  return {
    ok: true,
    settings: { mode: 'control-plane', controlPlane, nodeId, scope, cacheDir: str('cache-dir') as string, labels, cacheGraceMs, cacheMaxAgeMs, controlTls: transport.tls, ...common },
  };
}

/** "500ms", "30s", "10m", "24h", "7d" → milliseconds; null when malformed or not positive. */
export function parseDurationMs(text: string): number | null {
  const m = /^(\d{1,9})(ms|s|m|h|d)$/.exec(text);
  if (!m) return null;
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  const ms = Number(m[1]) * unit;
  return ms > 0 && Number.isSafeInteger(ms) ? ms : null;
}

/** "127.0.0.1:9901", "[::1]:9901", "localhost:0" → {host, port}; null when malformed. */
export function parseHostPort(text: string): HostPort | null {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(text);
  if (!m) return null;
  const port = Number(m[3]);
  if (port > 65535) return null;
  return { host: (m[1] ?? m[2]) as string, port };
}

function fail(error: string): FlagsResult {
  return { ok: false, error };
}
