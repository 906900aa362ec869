/**
 * A scope's rollout policy and freeze from the shell: `policy get` (the current version, or the
 * default at version 0, with its ETag), `policy set FILE` (YAML or JSON → the JSON body of PUT
 * rollout-policy, If-Match from --if-match or else the ETag of a fresh GET, so a concurrent
 * change is refused with 412 → exit 4 rather than overwritten), and `unfreeze --reason R`.
 * YAML needs the `yaml` package, loaded only for a YAML file (the other commands need no npm
 * dependency); the server checks the policy (422 with every issue → exit 3).
 */
import { readFile } from 'node:fs/promises';
import { type CliContext, scopePath } from '../cli-context.ts';
import { CliError } from '../cli-error.ts';
import { configContentType } from '../config-file.ts';
import { EXIT } from '../exit-codes.ts';
import type { CommandResult } from '../output.ts';
import { shortDuration } from './rollout-lines.ts';

interface PolicyBody {
  readonly scope: string;
  readonly version: number;
  readonly default: boolean;
  readonly policy: {
    readonly stages: readonly { readonly name: string; readonly labels: Record<string, string>; readonly percent: number; readonly soak_ms: number }[];
  };
}

interface FreezeBody {
  readonly scope: string;
  readonly rollbackStreak: number;
  readonly frozen: boolean;
}

/** Reads a policy file (JSON, or YAML by extension or content) into the value to send. */
export async function readPolicyFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new CliError('file_unreadable', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, EXIT.error);
  }
  if (configContentType(path, text) === 'application/json') {
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new CliError('policy_unparseable', `${path} is not JSON: ${(err as Error).message}`, EXIT.invalid);
    }
  }
  let yaml: typeof import('yaml');
  try {
    yaml = await import('yaml');
  } catch {
    throw new CliError('yaml_unavailable', 'a YAML policy needs the yaml package: run npm install in the spooky checkout, or pass JSON', EXIT.error);
  }
  try {
    return yaml.parse(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new CliError('policy_unparseable', `${path} is not YAML: ${(err as Error).message}`, EXIT.invalid);
  }
}

function policyLines(p: PolicyBody, etag: string | null): string[] {
  const head = `rollout policy of scope ${p.scope}: version ${p.version}${p.default ? ' (the default; none stored)' : ''}${etag === null ? '' : `, ETag ${etag}`}`;
  const stages = p.policy.stages.map((s, i) => {
    const labels = Object.entries(s.labels ?? {}).map(([k, v]) => `${k}=${v}`);
    return `  ${i + 1}. ${s.name}: ${labels.length > 0 ? `${labels.join(',')} ` : ''}${s.percent}% soak ${shortDuration(s.soak_ms)}`;
  });
  return [head, ...stages];
}

export async function policyGetCommand(ctx: CliContext): Promise<CommandResult> {
  const answer = await ctx.api.call<PolicyBody>('GET', `${scopePath(ctx)}/rollout-policy`);
  const etag = answer.headers.get('etag');
  return { exitCode: EXIT.ok, data: { ...answer.body, etag }, lines: policyLines(answer.body, etag) };
}

export async function policySetCommand(ctx: CliContext, cmd: { file: string; reason: string; ifMatch: number | null }): Promise<CommandResult> {
  const document = await readPolicyFile(cmd.file);
  const ifMatch =
    cmd.ifMatch !== null
      ? `"${cmd.ifMatch}"`
      : ((await ctx.api.call<PolicyBody>('GET', `${scopePath(ctx)}/rollout-policy`)).headers.get('etag') ?? '"0"');
  const answer = await ctx.api.call<PolicyBody>('PUT', `${scopePath(ctx)}/rollout-policy`, { json: document, reason: cmd.reason, ifMatch });
  const etag = answer.headers.get('etag');
  return { exitCode: EXIT.ok, data: { ...answer.body, etag }, lines: [`stored ${cmd.file}`, ...policyLines(answer.body, etag)] };
}

export async function unfreezeCommand(ctx: CliContext, reason: string): Promise<CommandResult> {
  const answer = await ctx.api.call<FreezeBody>('POST', `${scopePath(ctx)}/unfreeze`, { json: { reason }, reason });
  return { exitCode: EXIT.ok, data: answer.body, lines: [`scope ${answer.body.scope} unfrozen; automatic rollbacks in a row: ${answer.body.rollbackStreak}`] };
}
