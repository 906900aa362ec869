/**
 * validate, plan, push: the commands that send a config file. validate and plan store nothing;
 * push creates a generation (never changes traffic unless --activate).
 */
import { createHash } from 'node:crypto';
import { issuesOf } from '../api-client.ts';
import type { WaitOptions } from '../args.ts';
import { type CliContext, scopePath } from '../cli-context.ts';
import { CliError, formatIssue } from '../cli-error.ts';
import { readConfigFile } from '../config-file.ts';
import { EXIT } from '../exit-codes.ts';
import { type CommandResult, quoted, shortDigest } from '../output.ts';
import { activateSeq } from './active-commands.ts';
import { changeLines, changesOf } from './change-lines.ts';

/** The answer of POST …/validate, and of the same parse run locally (validate --offline, lint). */
export interface ValidateBody {
  readonly valid: boolean;
  readonly issues: unknown;
  readonly digest: string | null;
  readonly sizeBytes: number | null;
  readonly diff?: unknown;
}

interface ActiveBody {
  readonly seq: number | null;
  readonly digest: string | null;
  readonly version: number;
}

/**
 * Problem codes of a config the server could not parse (400) or that is too large (413): for
 * validate and plan these are an invalid config like any other, so --json keeps the
 * `{valid, issues}` shape for syntax errors too (exit 3 either way).
 */
const UNPARSEABLE_CODES: ReadonlySet<string> = new Set(['config_unparseable', 'payload_too_large']);

async function validateFile(ctx: CliContext, file: string): Promise<ValidateBody> {
  const config = await readConfigFile(file);
  try {
    const answer = await ctx.api.call<ValidateBody>('POST', `${scopePath(ctx)}/validate`, {
      raw: { text: config.text, contentType: config.contentType },
    });
    return answer.body;
  } catch (err) {
    if (err instanceof CliError && UNPARSEABLE_CODES.has(err.code) && err.issues.length > 0) {
      return { valid: false, issues: err.issues, digest: null, sizeBytes: null, diff: null };
    }
    throw err;
  }
}

function invalidResult(file: string, body: ValidateBody): CommandResult {
  const issues = issuesOf(body.issues);
  return {
    exitCode: EXIT.invalid,
    data: body,
    lines: [`${file} is invalid (${issues.length} issue(s)):`, ...issues.map((i) => `  ${formatIssue(i)}`)],
  };
}

/** validate FILE → 0 valid, 3 invalid. */
export async function validateCommand(ctx: CliContext, file: string): Promise<CommandResult> {
  return validateResult(file, await validateFile(ctx, file));
}

/** How a validate answer is shown, wherever it was computed: 0 valid, 3 invalid. */
export function validateResult(file: string, body: ValidateBody): CommandResult {
  if (!body.valid) return invalidResult(file, body);
  return { exitCode: EXIT.ok, data: body, lines: [`${file} is valid: ${body.digest} (${body.sizeBytes} bytes)`] };
}

/**
 * plan FILE → validate, then compare its digest with the active generation's. "Changes" means
 * the digests differ (or nothing is active); field-level changes are listed when the server's
 * validate answer carries a diff. Exit 0, or 2 with --detailed-exitcode when there are changes.
 */
export async function planCommand(ctx: CliContext, file: string, detailedExitcode: boolean): Promise<CommandResult> {
  const [body, active] = await Promise.all([validateFile(ctx, file), ctx.api.call<ActiveBody>('GET', `${scopePath(ctx)}/active`)]);
  if (!body.valid) return invalidResult(file, body);
  const activeDigest = active.body.digest ?? null;
  const changed = activeDigest !== body.digest;
  const changes = changesOf(body.diff);
  const data = { changed, digest: body.digest, active: { seq: active.body.seq, digest: activeDigest }, changes };
  const exitCode = changed && detailedExitcode ? EXIT.changes : EXIT.ok;
  if (!changed) {
    return { exitCode, data, lines: [`no changes: ${file} is the active generation (seq ${active.body.seq}, ${shortDigest(activeDigest)})`] };
  }
  const from = active.body.seq === null ? 'nothing active' : `active seq ${active.body.seq} (${shortDigest(activeDigest)})`;
  const lines = [`changes pending: ${from} → ${shortDigest(body.digest)}`];
  if (changes !== null) lines.push(...changeLines(changes));
  lines.push(`next: spookyctl push ${file} --reason '…' --activate`);
  return { exitCode, data, lines };
}

/** The default Idempotency-Key of push: a CI retry of the same file + reason + scope replays. */
export function pushIdempotencyKey(scope: string, text: string, reason: string): string {
  return createHash('sha256').update(`${scope}\0${text}\0${reason}`).digest('hex');
}

interface GenerationBody {
  readonly seq: number;
  readonly digest: string;
  readonly deduplicated?: boolean;
}

/** push FILE → creates (or finds) the generation; with --activate also activates (and waits). */
export async function pushCommand(
  ctx: CliContext,
  cmd: { file: string; reason: string; activate: boolean; wait: WaitOptions | null },
): Promise<CommandResult> {
  const config = await readConfigFile(cmd.file);
  const key = ctx.globals.idempotencyKey ?? pushIdempotencyKey(ctx.globals.scope, config.text, cmd.reason);
  const answer = await ctx.api.call<GenerationBody>('POST', `${scopePath(ctx)}/generations`, {
    raw: { text: config.text, contentType: config.contentType },
    reason: cmd.reason,
    idempotencyKey: key,
  });
  const gen = answer.body;
  const deduplicated = gen.deduplicated === true;
  const pushed = { scope: ctx.globals.scope, seq: gen.seq, digest: gen.digest, deduplicated };
  const lines = [
    deduplicated
      ? `generation seq ${gen.seq} already holds this config (${gen.digest}); nothing stored`
      : `created generation seq ${gen.seq} (${gen.digest})`,
  ];
  if (!cmd.activate) {
    lines.push(`next: spookyctl activate ${gen.seq} --reason ${quoted(cmd.reason)} --wait`);
    return { exitCode: EXIT.ok, data: pushed, lines };
  }
  const activation = await activateSeq(ctx, {
    seq: gen.seq,
    reason: cmd.reason,
    wait: cmd.wait,
    force: false,
    dryRun: false,
    ifMatch: null,
    idempotencyKey: ctx.globals.idempotencyKey === null ? null : `${ctx.globals.idempotencyKey}-activate`,
  });
  return {
    exitCode: activation.exitCode,
    data: { generation: pushed, ...(activation.data as object) },
    lines: [...lines, ...activation.lines],
  };
}
