/**
 * One spookyctl command's positionals and options → its typed Command, or a usage CliError
 * (exit 1). Called by parseInvocation (args.ts) once the command name is known and every option
 * given is one the command takes (cli-options.ts). Pure.
 */
import { CliError } from './cli-error.ts';
import type { OptionValues } from './cli-options.ts';
import type { PkiAction } from './commands/pki-commands.ts';
import { parseDuration } from './duration.ts';
import { EXIT } from './exit-codes.ts';
import type { Command, RollbackTo, RolloutAction, RolloutCommand, WaitOptions } from './invocation.ts';

/** --wait's bound when --timeout is not given (push --activate, activate, rollback). */
export const DEFAULT_WAIT_TIMEOUT_MS = 60_000;
/**
 * --wait of a staged rollout (activate --staged, rollout wait): a rollout soaks for minutes per
 * stage (the default policy: 5 + 10 min), so the fleet wait's 60 s would always time out.
 */
export const DEFAULT_ROLLOUT_WAIT_MS = 30 * 60_000;

function usage(message: string): CliError {
  return new CliError('usage', message, EXIT.error);
}

export function parseCommand(name: string, args: readonly string[], v: OptionValues): Command {
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

function rolloutCommand(action: RolloutAction, args: readonly string[], v: OptionValues): RolloutCommand {
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

function reason(v: OptionValues): string {
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

function ifMatch(v: OptionValues, what = 'the active pointer version'): number | null {
  const text = v['if-match'];
  if (text === undefined) return null;
  const bare = text.replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
  if (!/^\d{1,15}$/.test(bare)) throw usage(`--if-match must be ${what} (a number, 0 before the first)`);
  return Number(bare);
}

function waitOptions(v: OptionValues, defaultTimeoutMs = DEFAULT_WAIT_TIMEOUT_MS): WaitOptions | null {
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
