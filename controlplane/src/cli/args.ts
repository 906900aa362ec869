/**
 * Command-line parsing for spookyctl: argv + environment → one typed Invocation, or a usage
 * CliError (exit 1). Pure: no I/O, no process globals. Global options may appear anywhere;
 * each command accepts only its own options (an option it does not know is a usage error, so a
 * typo never silently changes what CI does).
 */
import { parseArgs } from 'node:util';
import { CliError } from './cli-error.ts';
import type { PkiAction, PkiCommand } from './commands/pki-commands.ts';
import { parseDuration } from './duration.ts';
import { EXIT } from './exit-codes.ts';
import type { TlsTrust } from './http-transport.ts';

export interface Globals {
  /** Base URL without a trailing slash. */
  readonly server: string;
  readonly token: string | null;
  readonly scope: string;
  readonly json: boolean;
  /** Explicit Idempotency-Key for mutations; null = the command picks its default. */
  readonly idempotencyKey: string | null;
  /** --ca-file / --cert / --key (SPOOKY_CA_FILE, SPOOKY_CLIENT_CERT, SPOOKY_CLIENT_KEY): used for https:// servers. */
  readonly tls: TlsTrust;
}

/**
 * --wait was given: poll the fleet for at most `timeoutMs`. The wait succeeds only when at least
 * `minNodes` connected nodes serve the target (--min-nodes, default 0: today's "nothing to wait
 * for" when no node is connected) and every node in `requireNodes` (--require-nodes a,b) does.
 */
export interface WaitOptions {
  readonly timeoutMs: number;
  readonly minNodes: number;
  readonly requireNodes: readonly string[];
}

export type RollbackTo = 'previous' | 'lkg' | number;

export type Command =
  | { readonly kind: 'help' }
  /** `offline`: parse locally (validate --offline, lint); no server, no token. */
  | { readonly kind: 'validate'; readonly file: string; readonly offline: boolean }
  | { readonly kind: 'plan'; readonly file: string; readonly detailedExitcode: boolean }
  | { readonly kind: 'push'; readonly file: string; readonly reason: string; readonly activate: boolean; readonly wait: WaitOptions | null }
  | {
      readonly kind: 'activate';
      readonly seq: number;
      readonly reason: string;
      readonly wait: WaitOptions | null;
      readonly force: boolean;
      readonly dryRun: boolean;
      readonly ifMatch: number | null;
      /** --staged / --immediate; null = the scope's default (the server decides). */
      readonly strategy: 'staged' | 'immediate' | null;
      /** --policy FILE: this rollout's policy (YAML or JSON), staged only. */
      readonly policyFile: string | null;
      /** --abort-live: abort the scope's live rollout instead of answering 409. */
      readonly abortLive: boolean;
    }
  | {
      readonly kind: 'rollback';
      readonly to: RollbackTo;
      readonly reason: string;
      readonly wait: WaitOptions | null;
      readonly force: boolean;
      readonly ifMatch: number | null;
      readonly abortLive: boolean;
    }
  | { readonly kind: 'status' }
  | { readonly kind: 'nodes' }
  | {
      readonly kind: 'diff';
      readonly from: number | 'active';
      readonly to: number | 'active';
      /** Sample-requests file: behavioural diff (which requests change upstream) instead of fields. */
      readonly requests: string | null;
      readonly detailedExitcode: boolean;
    }
  | { readonly kind: 'history'; readonly limit: number | null }
  | { readonly kind: 'audit-verify' }
  | {
      readonly kind: 'tokens-create';
      readonly name: string;
      readonly permissions: string[];
      readonly scopes: string[];
      readonly expiresAt: string | null;
      readonly file: string;
    }
  | { readonly kind: 'tokens-revoke'; readonly name: string; readonly file: string }
  | { readonly kind: 'tokens-list'; readonly file: string }
  | ({ readonly kind: 'pki' } & PkiCommand)
  | RolloutCommand
  | { readonly kind: 'policy-get' }
  | { readonly kind: 'policy-set'; readonly file: string; readonly reason: string; readonly ifMatch: number | null }
  | { readonly kind: 'unfreeze'; readonly reason: string };

export type RolloutAction = 'list' | 'get' | 'wait' | 'pause' | 'resume' | 'promote' | 'abort';

/** `rollout ACTION [ID]`: list (--limit), get ID, wait ID (--timeout), and the operator actions ID (--reason). */
export interface RolloutCommand {
  readonly kind: 'rollout';
  readonly action: RolloutAction;
  /** null for list. */
  readonly id: string | null;
  readonly limit: number | null;
  /** wait: how long to wait in all (default DEFAULT_ROLLOUT_WAIT_MS). */
  readonly timeoutMs: number;
  /** The operator actions: --reason (required). */
  readonly reason: string | null;
}

export interface Invocation {
  readonly command: Command;
  readonly globals: Globals;
}

export const DEFAULT_SERVER = 'http://127.0.0.1:8080';
export const DEFAULT_SCOPE = 'default';
export const DEFAULT_WAIT_TIMEOUT_MS = 60_000;
/**
 * --wait of a staged rollout (activate --staged, rollout wait): a rollout soaks for minutes per
 * stage (the default policy: 5 + 10 min), so the fleet wait's 60 s would always time out.
 */
export const DEFAULT_ROLLOUT_WAIT_MS = 30 * 60_000;
const SCOPE_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Every option spookyctl knows, with its parseArgs type (help --json lists them). */
export const OPTIONS = {
  server: { type: 'string' },
  token: { type: 'string' },
  scope: { type: 'string' },
  json: { type: 'boolean' },
  offline: { type: 'boolean' },
  'idempotency-key': { type: 'string' },
  'ca-file': { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  'detailed-exitcode': { type: 'boolean' },
  reason: { type: 'string' },
  activate: { type: 'boolean' },
  wait: { type: 'boolean' },
  timeout: { type: 'string' },
  'min-nodes': { type: 'string' },
  'require-nodes': { type: 'string' },
  force: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  'if-match': { type: 'string' },
  to: { type: 'string' },
  limit: { type: 'string' },
  name: { type: 'string' },
  permissions: { type: 'string' },
  scopes: { type: 'string' },
  expires: { type: 'string' },
  file: { type: 'string' },
  requests: { type: 'string' },
  dir: { type: 'string' },
  san: { type: 'string' },
  'node-id': { type: 'string' },
  days: { type: 'string' },
  staged: { type: 'boolean' },
  immediate: { type: 'boolean' },
  policy: { type: 'string' },
  'abort-live': { type: 'boolean' },
} as const;

export type OptionName = keyof typeof OPTIONS;
type Values = { [K in OptionName]?: (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

export const GLOBAL_OPTIONS: readonly OptionName[] = ['server', 'token', 'scope', 'json', 'idempotency-key', 'ca-file', 'cert', 'key', 'help'];
const WAIT_OPTIONS: readonly OptionName[] = ['wait', 'timeout', 'min-nodes', 'require-nodes'];

/** Options each command accepts besides the global ones; the keys are the command names. */
export const COMMAND_OPTIONS: Readonly<Record<string, readonly OptionName[]>> = {
  help: [],
  validate: ['offline'],
  lint: [],
  plan: ['detailed-exitcode'],
  push: ['reason', 'activate', ...WAIT_OPTIONS],
  activate: ['reason', 'force', 'dry-run', 'if-match', 'staged', 'immediate', 'policy', 'abort-live', ...WAIT_OPTIONS],
  rollback: ['reason', 'to', 'force', 'if-match', 'abort-live', ...WAIT_OPTIONS],
  status: [],
  nodes: [],
  diff: ['requests', 'detailed-exitcode'],
  history: ['limit'],
  'audit verify': [],
  'tokens create': ['name', 'permissions', 'scopes', 'expires', 'file'],
  'tokens revoke': ['name', 'file'],
  'tokens list': ['file'],
  'pki init-ca': ['dir', 'days', 'force'],
  'pki server': ['dir', 'name', 'san', 'days', 'force'],
  'pki node': ['dir', 'node-id', 'name', 'days', 'force'],
  'pki client': ['dir', 'name', 'san', 'days', 'force'],
  'rollout list': ['limit'],
  'rollout get': [],
  'rollout wait': ['timeout'],
  'rollout pause': ['reason'],
  'rollout resume': ['reason'],
  'rollout promote': ['reason'],
  'rollout abort': ['reason'],
  'policy get': [],
  'policy set': ['reason', 'if-match'],
  unfreeze: ['reason'],
};

function usage(message: string): CliError {
  return new CliError('usage', message, EXIT.error);
}

/** Parses argv (without node and script) with the environment's SPOOKY_* defaults. */
export function parseInvocation(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Invocation {
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true }) as { values: Values; positionals: string[] };
  } catch (err) {
    throw usage((err as Error).message);
  }
  const { values, positionals } = parsed;
  const globals = parseGlobals(values, env);
  if (values.help || positionals.length === 0 || positionals[0] === 'help') {
    if (positionals.length === 0 && !values.help) throw usage('no command given');
    return { command: { kind: 'help' }, globals };
  }
  const [name, rest] = commandName(positionals);
  const allowed = new Set<OptionName>([...GLOBAL_OPTIONS, ...(COMMAND_OPTIONS[name] ?? [])]);
  for (const key of Object.keys(values) as OptionName[]) {
    if (!allowed.has(key)) throw usage(`${name} does not take --${key}`);
  }
  return { command: parseCommand(name, rest, values), globals };
}

function commandName(positionals: readonly string[]): [string, string[]] {
  const [first = '', second, ...more] = positionals;
  if (first === 'audit' || first === 'tokens' || first === 'pki' || first === 'rollout' || first === 'policy') {
    const name = `${first} ${second ?? ''}`;
    if (!(name in COMMAND_OPTIONS)) throw usage(`unknown command: ${name.trim()} (see spookyctl help)`);
    return [name, more];
  }
  if (!(first in COMMAND_OPTIONS)) throw usage(`unknown command: ${first} (see spookyctl help)`);
  return [first, positionals.slice(1)];
}

function parseGlobals(values: Values, env: Readonly<Record<string, string | undefined>>): Globals {
  const serverText = values.server ?? env['SPOOKY_SERVER'] ?? DEFAULT_SERVER;
  let server: URL;
  try {
    server = new URL(serverText);
  } catch {
    throw usage(`--server is not a URL: ${serverText}`);
  }
  if (server.protocol !== 'http:' && server.protocol !== 'https:') throw usage('--server must be an http:// or https:// URL');
  const scope = values.scope ?? env['SPOOKY_SCOPE'] ?? DEFAULT_SCOPE;
  if (!SCOPE_PATTERN.test(scope)) throw usage('--scope must match [a-z0-9][a-z0-9-]{0,62}');
  const token = values.token ?? env['SPOOKY_TOKEN'] ?? null;
  return {
    server: server.href.replace(/\/+$/, ''),
    token: token === '' ? null : token,
    scope,
    json: values.json === true,
    idempotencyKey: values['idempotency-key'] ?? null,
    tls: parseTls(values, env),
  };
}

/** The TLS trust files; --cert and --key go together (flags win over the environment, '' = unset). */
function parseTls(values: Values, env: Readonly<Record<string, string | undefined>>): TlsTrust {
  const file = (flag: 'ca-file' | 'cert' | 'key', envName: string): string | null => {
    const v = values[flag] ?? env[envName];
    return v === undefined || v === '' ? null : v;
  };
  const certFile = file('cert', 'SPOOKY_CLIENT_CERT');
  const keyFile = file('key', 'SPOOKY_CLIENT_KEY');
  if (certFile !== null && keyFile === null) throw usage('--cert needs --key FILE (or SPOOKY_CLIENT_KEY)');
  if (keyFile !== null && certFile === null) throw usage('--key needs --cert FILE (or SPOOKY_CLIENT_CERT)');
  return { caFile: file('ca-file', 'SPOOKY_CA_FILE'), certFile, keyFile };
}

function parseCommand(name: string, args: readonly string[], v: Values): Command {
  const positional = (count: number, what: string): string[] => {
    if (args.length !== count) throw usage(`${name} takes ${what}`);
    return [...args];
  };
  switch (name) {
    case 'help':
      return { kind: 'help' };
    case 'validate':
      return { kind: 'validate', file: positional(1, 'one FILE')[0]!, offline: v.offline === true };
    case 'lint':
      return { kind: 'validate', file: positional(1, 'one FILE')[0]!, offline: true };
    case 'plan':
      return { kind: 'plan', file: positional(1, 'one FILE')[0]!, detailedExitcode: v['detailed-exitcode'] === true };
    case 'push': {
      const file = positional(1, 'one FILE')[0]!;
      const activate = v.activate === true;
      if (!activate && (v.wait || v.timeout !== undefined || v['min-nodes'] !== undefined || v['require-nodes'] !== undefined)) {
        throw usage('push takes --wait/--timeout/--min-nodes/--require-nodes only with --activate');
      }
      return { kind: 'push', file, reason: reason(v), activate, wait: waitOptions(v) };
    }
    case 'activate': {
      const seq = seqOf(positional(1, 'one SEQ')[0]!, 'SEQ');
      if (v.staged && v.immediate) throw usage('activate takes --staged or --immediate, not both');
      const strategy = v.staged ? 'staged' : v.immediate ? 'immediate' : null;
      if (v.policy !== undefined && strategy !== 'staged') throw usage('--policy needs --staged');
      if (strategy === 'staged' && (v.force || v['dry-run'])) throw usage('--staged does not take --force or --dry-run');
      if (strategy === 'staged' && (v['min-nodes'] !== undefined || v['require-nodes'] !== undefined)) {
        throw usage('--staged --wait waits for the rollout; --min-nodes/--require-nodes belong to the rollout policy');
      }
      return {
        kind: 'activate',
        seq,
        reason: reason(v),
        wait: strategy === 'staged' ? waitOptions(v, DEFAULT_ROLLOUT_WAIT_MS) : waitOptions(v),
        force: v.force === true,
        dryRun: v['dry-run'] === true,
        ifMatch: ifMatch(v),
        strategy,
        policyFile: v.policy ?? null,
        abortLive: v['abort-live'] === true,
      };
    }
    case 'rollback': {
      positional(0, 'no positional arguments (use --to)');
      const to = v.to;
      if (to === undefined) throw usage('rollback needs --to previous|lkg|SEQ');
      const target: RollbackTo = to === 'previous' || to === 'lkg' ? to : seqOf(to, '--to');
      return {
        kind: 'rollback',
        to: target,
        reason: reason(v),
        wait: waitOptions(v),
        force: v.force === true,
        ifMatch: ifMatch(v),
        abortLive: v['abort-live'] === true,
      };
    }
    case 'status':
    case 'nodes':
      positional(0, 'no arguments');
      return { kind: name };
    case 'diff': {
      const [from, to] = positional(2, 'FROM TO (each a seq or "active")');
      const side = (text: string, what: string) => (text === 'active' ? 'active' : seqOf(text, what));
      return {
        kind: 'diff',
        from: side(from!, 'FROM'),
        to: side(to!, 'TO'),
        requests: v.requests ?? null,
        detailedExitcode: v['detailed-exitcode'] === true,
      };
    }
    case 'history': {
      positional(0, 'no positional arguments');
      const limit = v.limit === undefined ? null : seqOf(v.limit, '--limit');
      if (limit !== null && limit > 100) throw usage('--limit is at most 100');
      return { kind: 'history', limit };
    }
    case 'audit verify':
      positional(0, 'no further arguments');
      return { kind: 'audit-verify' };
    case 'tokens create': {
      positional(0, 'no positional arguments');
      const expires = v.expires ?? null;
      if (expires !== null && (!/^\d{4}-\d{2}-\d{2}T/.test(expires) || Number.isNaN(Date.parse(expires)))) {
        throw usage('--expires must be an ISO 8601 date-time, e.g. 2027-01-01T00:00:00Z');
      }
      return {
        kind: 'tokens-create',
        name: required(v.name, '--name'),
        permissions: list(required(v.permissions, '--permissions')),
        scopes: list(required(v.scopes, '--scopes')),
        expiresAt: expires === null ? null : new Date(expires).toISOString(),
        file: required(v.file, '--file'),
      };
    }
    case 'tokens revoke':
      positional(0, 'no positional arguments');
      return { kind: 'tokens-revoke', name: required(v.name, '--name'), file: required(v.file, '--file') };
    case 'tokens list':
      positional(0, 'no positional arguments');
      return { kind: 'tokens-list', file: required(v.file, '--file') };
    case 'pki init-ca':
    case 'pki server':
    case 'pki node':
    case 'pki client':
      positional(0, 'no positional arguments');
      // The profile's own checks (names, SANs, days) run in pki-commands.ts.
      return {
        kind: 'pki',
        action: name.slice('pki '.length) as PkiAction,
        dir: required(v.dir, '--dir'),
        name: v.name ?? null,
        san: v.san ?? null,
        nodeId: v['node-id'] ?? null,
        days: v.days ?? null,
        force: v.force === true,
      };
    case 'policy get':
      positional(0, 'no further arguments');
      return { kind: 'policy-get' };
    case 'policy set':
      return { kind: 'policy-set', file: positional(1, 'one FILE')[0]!, reason: reason(v), ifMatch: ifMatch(v, 'the rollout policy version') };
    case 'unfreeze':
      positional(0, 'no arguments');
      return { kind: 'unfreeze', reason: reason(v) };
    default:
      if (name.startsWith('rollout ')) return rolloutCommand(name.slice('rollout '.length) as RolloutAction, args, v);
      throw usage(`unknown command: ${name}`);
  }
}

function rolloutCommand(action: RolloutAction, args: readonly string[], v: Values): RolloutCommand {
  if (action === 'list') {
    if (args.length !== 0) throw usage('rollout list takes no positional arguments');
    const limit = v.limit === undefined ? null : seqOf(v.limit, '--limit');
    if (limit !== null && limit > 100) throw usage('--limit is at most 100');
    return { kind: 'rollout', action, id: null, limit, timeoutMs: DEFAULT_ROLLOUT_WAIT_MS, reason: null };
  }
  const [id] = args;
  if (args.length !== 1 || id === undefined || !/^[A-Za-z0-9._-]{1,128}$/.test(id)) throw usage(`rollout ${action} takes one rollout ID`);
  let timeoutMs = DEFAULT_ROLLOUT_WAIT_MS;
  if (v.timeout !== undefined) {
    const ms = parseDuration(v.timeout);
    if (ms === null) throw usage(`--timeout is not a duration (e.g. 60s, 2m, 500ms): ${v.timeout}`);
    timeoutMs = ms;
  }
  const operator = action !== 'get' && action !== 'wait';
  return { kind: 'rollout', action, id, limit: null, timeoutMs, reason: operator ? reason(v) : null };
}

function required(value: string | undefined, flag: string): string {
  if (value === undefined || value.trim() === '') throw usage(`${flag} is required`);
  return value;
}

function reason(v: Values): string {
  return required(v.reason, '--reason').trim();
}

function list(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function seqOf(text: string, what: string): number {
  if (!/^[1-9]\d{0,14}$/.test(text)) throw usage(`${what} must be a positive integer, got ${JSON.stringify(text)}`);
  return Number(text);
}

function ifMatch(v: Values, what = 'the active pointer version'): number | null {
  const text = v['if-match'];
  if (text === undefined) return null;
  const bare = text.replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
  if (!/^\d{1,15}$/.test(bare)) throw usage(`--if-match must be ${what} (a number, 0 before the first)`);
  return Number(bare);
}

function waitOptions(v: Values, defaultTimeoutMs = DEFAULT_WAIT_TIMEOUT_MS): WaitOptions | null {
  if (v.wait !== true) {
    for (const flag of ['timeout', 'min-nodes', 'require-nodes'] as const) {
      if (v[flag] !== undefined) throw usage(`--${flag} needs --wait`);
    }
    return null;
  }
  let timeoutMs = defaultTimeoutMs;
  if (v.timeout !== undefined) {
    const ms = parseDuration(v.timeout);
    if (ms === null) throw usage(`--timeout is not a duration (e.g. 60s, 2m, 500ms): ${v.timeout}`);
    timeoutMs = ms;
  }
  const minText = v['min-nodes'];
  if (minText !== undefined && !/^\d{1,6}$/.test(minText)) throw usage(`--min-nodes must be a number of nodes (0 or more), got ${JSON.stringify(minText)}`);
  const requireNodes = v['require-nodes'] === undefined ? [] : list(v['require-nodes']);
  if (v['require-nodes'] !== undefined && requireNodes.length === 0) throw usage('--require-nodes takes node ids, e.g. --require-nodes edge-1,edge-2');
  return { timeoutMs, minNodes: minText === undefined ? 0 : Number(minText), requireNodes: [...new Set(requireNodes)] };
}
