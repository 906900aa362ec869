/**
 * Command-line parsing for spookyctl: argv + environment → one typed Invocation, or a usage
 * CliError (exit 1). Pure: no I/O, no process globals. Global options may appear anywhere;
 * each command accepts only its own options (an option it does not know is a usage error, so a
 * typo never silently changes what CI does). The option table is cli-options.ts, each command's
 * own parse parse-command.ts, the result's types invocation.ts (all re-exported here).
 */
import { parseArgs } from 'node:util';
import { CliError } from './cli-error.ts';
import { COMMAND_OPTIONS, GLOBAL_OPTIONS, OPTIONS, type OptionName, type OptionValues as Values } from './cli-options.ts';
import { EXIT } from './exit-codes.ts';
import type { TlsTrust } from './http-transport.ts';
import type { Globals, Invocation } from './invocation.ts';
import { parseCommand } from './parse-command.ts';

export { COMMAND_OPTIONS, GLOBAL_OPTIONS, OPTIONS, type OptionName } from './cli-options.ts';
export type { Command, Globals, Invocation, RollbackTo, RolloutAction, RolloutCommand, WaitOptions } from './invocation.ts';
export { DEFAULT_ROLLOUT_WAIT_MS, DEFAULT_WAIT_TIMEOUT_MS } from './parse-command.ts';

export const DEFAULT_SERVER = 'http://127.0.0.1:8080';
export const DEFAULT_SCOPE = 'default';
const SCOPE_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

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
