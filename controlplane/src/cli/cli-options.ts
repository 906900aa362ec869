/**
 * spookyctl's option table: every option with its parseArgs type, the global ones, and which
 * command takes which (an option a command does not take is a usage error, args.ts). help --json
 * and the help text list them from here (help-document.ts).
 */

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
/** parseArgs values of OPTIONS: a boolean for a switch, else the string given. */
export type OptionValues = { [K in OptionName]?: (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

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
