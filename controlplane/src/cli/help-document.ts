/**
 * `spookyctl help --json`: the commands, their arguments and options, the global options with
 * their environment variables, and the exit codes, as one JSON document a script or a wrapper
 * can read. Options come from the parser's own tables (args.ts), so the document cannot list a
 * flag the parser refuses or miss one it accepts; only the one-line summaries live here.
 */
import { COMMAND_OPTIONS, GLOBAL_OPTIONS, OPTIONS, type OptionName } from './args.ts';
import { EXIT } from './exit-codes.ts';

export interface HelpOption {
  /** `--name`. */
  readonly name: string;
  /** `boolean` (a switch) or `string` (takes a value). */
  readonly type: 'boolean' | 'string';
  /** The environment variable used when the flag is absent, if any. */
  readonly env?: string;
}

export interface HelpCommand {
  /** As typed: `validate`, `audit verify`, `tokens create`. */
  readonly name: string;
  /** Positional arguments, e.g. `FILE`, `FROM TO`; '' for none. */
  readonly arguments: string;
  readonly summary: string;
  /** Options besides the global ones. */
  readonly options: readonly HelpOption[];
}

export interface HelpDocument {
  readonly usage: string;
  readonly commands: readonly HelpCommand[];
  readonly globalOptions: readonly HelpOption[];
  /** Exit code name → number (CONTROL-PLANE.md, "CLI"). */
  readonly exitCodes: Readonly<Record<string, number>>;
}

/** Positional arguments and summary of each command in COMMAND_OPTIONS (help-document.test.ts checks both lists match). */
export const COMMAND_HELP: Readonly<Record<string, { readonly arguments: string; readonly summary: string }>> = {
  help: { arguments: '', summary: 'print this help (with --json: this document)' },
  validate: { arguments: 'FILE', summary: 'check a config (YAML or JSON) on the server, or locally with --offline; stores nothing' },
  lint: { arguments: 'FILE', summary: 'validate FILE --offline: the same checks locally, no server and no token' },
  plan: { arguments: 'FILE', summary: 'validate + what would change against the active generation' },
  push: { arguments: 'FILE', summary: 'store FILE as a generation (idempotent per file + reason); --activate also activates it' },
  activate: {
    arguments: 'SEQ',
    summary: 'make generation SEQ the active one; --staged starts a staged rollout (--wait: 0 promoted, 5 rolled back, 6 timed out)',
  },
  rollback: { arguments: '', summary: 'activate an earlier generation (--to previous|lkg|SEQ)' },
  status: { arguments: '', summary: 'fleet convergence of the scope' },
  nodes: { arguments: '', summary: 'data planes of the scope' },
  diff: { arguments: 'FROM TO', summary: 'field-level diff (each side a seq or "active"); with --requests, which sample requests change upstream' },
  history: { arguments: '', summary: 'generations, newest first' },
  'audit verify': { arguments: '', summary: 'check the audit hash chain' },
  'tokens create': { arguments: '', summary: 'add a token to a local tokens file and print its secret once' },
  'tokens revoke': { arguments: '', summary: 'remove a token from a local tokens file' },
  'tokens list': { arguments: '', summary: 'tokens of a local tokens file (never a secret)' },
  'pki init-ca': { arguments: '', summary: 'create a dev CA (ca.crt, ca.key) in --dir with the system openssl' },
  'pki server': { arguments: '', summary: 'issue a server certificate (serverAuth, --san) signed by the dev CA' },
  'pki node': { arguments: '', summary: 'issue a data-plane certificate for --scope/--node-id (SAN spiffe://spooky/scope/S/node/N, clientAuth)' },
  'pki client': { arguments: '', summary: 'issue a client certificate (clientAuth) for REST mTLS callers' },
  'rollout list': { arguments: '', summary: 'staged rollouts of the scope, newest first' },
  'rollout get': { arguments: 'ID', summary: 'one rollout: stages, node counts, failed gate numbers, last decision' },
  'rollout wait': { arguments: 'ID', summary: 'wait until the rollout is final (exit 0 promoted, 5 rolled back or aborted, 6 timed out)' },
  'rollout pause': { arguments: 'ID', summary: 'hold the rollout after its current stage (a failed gate still rolls back)' },
  'rollout resume': { arguments: 'ID', summary: 'let a paused rollout go on' },
  'rollout promote': { arguments: 'ID', summary: 'skip the current stage soak and health gate (needs config:activate-immediate)' },
  'rollout abort': { arguments: 'ID', summary: 'roll the cohort back to the LKG and end the rollout' },
  'policy get': { arguments: '', summary: 'the scope rollout policy (version 0 = the default) with its ETag' },
  'policy set': { arguments: 'FILE', summary: 'store a rollout policy (YAML or JSON) as the next version (If-Match from a get, or --if-match)' },
  unfreeze: { arguments: '', summary: 'lift the freeze left by automatic rollbacks in a row (needs rollout:policy)' },
};

const ENV: Partial<Record<OptionName, string>> = {
  server: 'SPOOKY_SERVER',
  token: 'SPOOKY_TOKEN',
  scope: 'SPOOKY_SCOPE',
  'ca-file': 'SPOOKY_CA_FILE',
  cert: 'SPOOKY_CLIENT_CERT',
  key: 'SPOOKY_CLIENT_KEY',
};

function option(name: OptionName): HelpOption {
  const env = ENV[name];
  return { name: `--${name}`, type: OPTIONS[name].type, ...(env === undefined ? {} : { env }) };
}

export function helpDocument(): HelpDocument {
  return {
    usage: 'spookyctl <command> [options]',
    commands: Object.entries(COMMAND_OPTIONS).map(([name, options]) => ({
      name,
      arguments: COMMAND_HELP[name]?.arguments ?? '',
      summary: COMMAND_HELP[name]?.summary ?? '',
      options: options.map(option),
    })),
    globalOptions: GLOBAL_OPTIONS.map(option),
    exitCodes: { ...EXIT },
  };
}
