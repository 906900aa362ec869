/**
 * spookyctl's whole run: parse, dispatch to the command, render, return the exit code. Never
 * reads stdin and never prompts, so it behaves the same with or without a TTY. Every failure
 * is rendered (human: stderr; --json: one JSON document on stdout) and mapped to an exit code.
 */
import { ApiClient } from './api-client.ts';
import { type Command, type Globals, parseInvocation } from './args.ts';
import type { CliContext } from './cli-context.ts';
import { CliError } from './cli-error.ts';
import { activateSeq, rollbackCommand } from './commands/active-commands.ts';
import { behaviourDiffCommand } from './commands/behaviour-diff-command.ts';
import { planCommand, pushCommand, validateCommand } from './commands/config-commands.ts';
import { nodesCommand, statusCommand } from './commands/fleet-commands.ts';
import { auditVerifyCommand, diffCommand, historyCommand } from './commands/history-commands.ts';
import { policyGetCommand, policySetCommand, unfreezeCommand } from './commands/policy-commands.ts';
import { rolloutCommand } from './commands/rollout-commands.ts';
import { EXIT, type ExitCode } from './exit-codes.ts';
import { helpDocument } from './help-document.ts';
import { type CommandResult, type Io, render, renderError } from './output.ts';
import { USAGE } from './usage.ts';

export async function runCli(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, io: Io): Promise<ExitCode> {
  let globals: Globals | null = null;
  let api: ApiClient | null = null;
  try {
    const invocation = parseInvocation(argv, env);
    globals = invocation.globals;
    if (invocation.command.kind === 'help') {
      io.out(globals.json ? `${JSON.stringify(helpDocument(), null, 2)}\n` : USAGE);
      return EXIT.ok;
    }
    // No server, no token: the local parse is the whole command. Loaded on demand: it is the only
    // command that needs npm dependencies (@spooky/config's parser); the others need none.
    if (invocation.command.kind === 'validate' && invocation.command.offline) {
      const { validateOfflineCommand } = await loadOfflineValidate();
      const result = await validateOfflineCommand(invocation.command.file);
      render(result, globals.json, io);
      return result.exitCode;
    }
    api = new ApiClient(globals.server, globals.token, globals.tls);
    const ctx: CliContext = { api, globals };
    const result = await dispatch(ctx, invocation.command);
    render(result, globals.json, io);
    return result.exitCode;
  } catch (err) {
    const error = err instanceof CliError ? err : new CliError('internal', `unexpected failure: ${(err as Error)?.message ?? String(err)}`, EXIT.error);
    const json = globals?.json ?? argv.includes('--json');
    renderError(error, json, io);
    if (error.code === 'usage' && !json) io.err('see: spookyctl help\n');
    return error.exitCode;
  } finally {
    api?.close();
  }
}

/** The offline validate module; a checkout without `npm install` cannot load it: say so (exit 1). */
async function loadOfflineValidate(): Promise<typeof import('./commands/validate-offline-command.ts')> {
  try {
    return await import('./commands/validate-offline-command.ts');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    const message = 'validate --offline and lint need the config parser: run npm install in the spooky checkout';
    throw new CliError('offline_unavailable', message, EXIT.error);
  }
}

function dispatch(ctx: CliContext, command: Exclude<Command, { kind: 'help' }>): Promise<CommandResult> {
  switch (command.kind) {
    case 'validate':
      return validateCommand(ctx, command.file);
    case 'plan':
      return planCommand(ctx, command.file, command.detailedExitcode);
    case 'push':
      return pushCommand(ctx, command);
    case 'activate':
      return activateSeq(ctx, command);
    case 'rollback':
      return rollbackCommand(ctx, command);
    case 'status':
      return statusCommand(ctx);
    case 'nodes':
      return nodesCommand(ctx);
    case 'diff':
      return command.requests === null
        ? diffCommand(ctx, command.from, command.to, command.detailedExitcode)
        : behaviourDiffCommand(ctx, command.from, command.to, command.requests, command.detailedExitcode);
    case 'history':
      return historyCommand(ctx, command.limit);
    case 'audit-verify':
      return auditVerifyCommand(ctx);
    // Loaded on demand: only these commands touch the local tokens file code.
    case 'tokens-create':
      return import('./commands/token-commands.ts').then((m) => m.tokensCreateCommand(command));
    case 'tokens-revoke':
      return import('./commands/token-commands.ts').then((m) => m.tokensRevokeCommand(command));
    case 'tokens-list':
      return import('./commands/token-commands.ts').then((m) => m.tokensListCommand(command));
    case 'rollout':
      return rolloutCommand(ctx, command);
    case 'policy-get':
      return policyGetCommand(ctx);
    case 'policy-set':
      return policySetCommand(ctx, command);
    case 'unfreeze':
      return unfreezeCommand(ctx, command.reason);
    // Loaded on demand: only pki runs openssl.
    case 'pki':
      return import('./commands/pki-commands.ts').then((m) => m.pkiCommand(command, ctx.globals.scope));
  }
}
