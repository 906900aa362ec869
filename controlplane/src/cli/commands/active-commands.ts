/**
 * activate and rollback: the commands that move the active pointer. Both read the pointer's
 * ETag first (unless --if-match pins the version the caller planned against) and send it as
 * If-Match, so a concurrent move is refused (412 → exit 4) instead of silently overwritten.
 * With --wait they then wait for the fleet (wait-for-fleet.ts).
 *
 * rollback sends a default Idempotency-Key derived from (scope, target, force, reason), so a
 * retried CI job replays the first answer instead of rolling back a second time; a replay is
 * reported as "already rolled back … nothing moved" (exit 0) while the pointer is still where
 * that rollback left it, and refused (exit 4) when it has moved since, so a stale replay never
 * passes for a fresh rollback.
 *
 * Staged rollouts: `activate --staged` (or no flag in a scope whose default is staged: the server
 * answers 202) starts a rollout instead of moving the pointer; with --wait it waits for the
 * rollout (rollout-commands.ts: exit 0 promoted, 5 rolled back or aborted, 6 timed out).
 * `--immediate` asks for today's move; `--abort-live` aborts the scope's live rollout first.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { RollbackTo, WaitOptions } from '../args.ts';
import { type CliContext, scopePath } from '../cli-context.ts';
import { CliError } from '../cli-error.ts';
import { EXIT } from '../exit-codes.ts';
import { type CommandResult, quoted, shortDigest } from '../output.ts';
import { waitForFleet } from '../wait-for-fleet.ts';
import { changeLines, changesOf } from './change-lines.ts';
import { readPolicyFile } from './policy-commands.ts';
import { rolloutResult, waitRollout } from './rollout-commands.ts';
import type { RolloutViewBody } from './rollout-lines.ts';

/** The header a replayed idempotent answer carries (api/idempotency.ts; the CLI imports no server code). */
const REPLAYED_HEADER = 'idempotent-replayed';

interface ActiveView {
  readonly seq: number | null;
  readonly digest: string | null;
  readonly version: number;
}

interface MoveBody {
  readonly active: ActiveView;
  readonly target: { readonly seq: number; readonly digest: string };
  readonly moved: boolean;
  readonly changes?: unknown;
  readonly dryRun?: boolean;
}

export interface ActivateRequest {
  readonly seq: number;
  readonly reason: string;
  readonly wait: WaitOptions | null;
  readonly force: boolean;
  readonly dryRun: boolean;
  /** Pinned pointer version; null = read it from GET active. */
  readonly ifMatch: number | null;
  /** null = the global --idempotency-key, else a random one. */
  readonly idempotencyKey?: string | null;
  /** --staged / --immediate; null or absent = the scope's default. */
  readonly strategy?: 'staged' | 'immediate' | null;
  readonly policyFile?: string | null;
  readonly abortLive?: boolean;
}

/** The If-Match value to send: the pinned version, else the current pointer's ETag. */
async function ifMatchFor(ctx: CliContext, pinned: number | null): Promise<string> {
  if (pinned !== null) return `"${pinned}"`;
  const answer = await ctx.api.call<ActiveView>('GET', `${scopePath(ctx)}/active`);
  return answer.headers.get('etag') ?? `"${answer.body.version}"`;
}

function keyFor(ctx: CliContext, explicit: string | null | undefined): string {
  return explicit ?? ctx.globals.idempotencyKey ?? randomUUID();
}

/** activate SEQ: PUT active {seq} with If-Match; then optionally wait for the fleet. */
export async function activateSeq(ctx: CliContext, req: ActivateRequest): Promise<CommandResult> {
  const policy = req.policyFile ? await readPolicyFile(req.policyFile) : undefined;
  const ifMatch = await ifMatchFor(ctx, req.ifMatch);
  const answer = await ctx.api.call<MoveBody | RolloutViewBody>('PUT', `${scopePath(ctx)}/active`, {
    json: {
      seq: req.seq,
      ...(req.dryRun ? { dryRun: true } : {}),
      ...(req.force ? { force: true } : {}),
      ...(req.strategy ? { strategy: req.strategy } : {}),
      ...(policy === undefined ? {} : { policy }),
      ...(req.abortLive ? { abort_live: true } : {}),
    },
    reason: req.reason,
    ifMatch,
    idempotencyKey: keyFor(ctx, req.idempotencyKey),
  });
  if (answer.status === 202) {
    const started = answer.body as RolloutViewBody;
    const lead = [`started staged rollout ${started.id} of seq ${req.seq} (${answer.headers.get('location') ?? ''})`];
    if (req.wait === null) return rolloutResult(started, lead, false);
    return rolloutResult(await waitRollout(ctx, started.id, req.wait.timeoutMs), lead, true);
  }
  const move = answer.body as MoveBody;
  const changes = changesOf(move.changes);
  const lines: string[] = [];
  if (req.dryRun) {
    lines.push(`dry run: activating seq ${move.target.seq} (${shortDigest(move.target.digest)}) would be accepted; nothing moved`);
  } else if (move.moved) {
    lines.push(`activated seq ${move.target.seq} (${move.target.digest}), active version ${move.active.version}`);
  } else {
    lines.push(`seq ${move.target.seq} is already active (version ${move.active.version}); nothing moved`);
  }
  if (changes !== null && changes.length > 0) lines.push(...changeLines(changes));
  return finish(ctx, move, lines, req.dryRun ? null : req.wait, `spookyctl rollback --to previous --reason ${quoted('…')}`);
}

/**
 * The default Idempotency-Key of rollback: the same scope, target, force and reason give the
 * same key (for the server's 24 h), so a retried job replays. A later, deliberate rollback
 * needs another reason (e.g. with the pipeline id in it) or --idempotency-key.
 */
export function rollbackIdempotencyKey(scope: string, to: RollbackTo, force: boolean, reason: string): string {
  return `rollback-${createHash('sha256').update(`rollback\0${scope}\0${String(to)}\0${force}\0${reason}`).digest('hex')}`;
}

export async function rollbackCommand(
  ctx: CliContext,
  cmd: { to: RollbackTo; reason: string; wait: WaitOptions | null; force: boolean; ifMatch: number | null; abortLive?: boolean },
): Promise<CommandResult> {
  const ifMatch = await ifMatchFor(ctx, cmd.ifMatch);
  const key = ctx.globals.idempotencyKey ?? rollbackIdempotencyKey(ctx.globals.scope, cmd.to, cmd.force, cmd.reason);
  const answer = await ctx.api.call<MoveBody>('POST', `${scopePath(ctx)}/rollback`, {
    json: { to: cmd.to, ...(cmd.force ? { force: true } : {}), ...(cmd.abortLive ? { abort_live: true } : {}) },
    reason: cmd.reason,
    ifMatch,
    idempotencyKey: key,
  });
  const move = answer.body;
  if (answer.headers.get(REPLAYED_HEADER) === 'true') return replayedRollback(ctx, move, cmd.wait);
  const lines = [
    move.moved
      ? `rolled back to seq ${move.target.seq} (${move.target.digest}), active version ${move.active.version}`
      : `seq ${move.target.seq} is already active; nothing moved`,
  ];
  return finish(ctx, move, lines, cmd.wait, 'spookyctl status');
}

/**
 * The server replayed an earlier rollback with the same key: nothing moved now. Exit 0 (and
 * --wait as usual) only while the pointer is still at the version that rollback produced;
 * when it moved since, exit 4 so CI does not take an old answer for the current state.
 */
async function replayedRollback(ctx: CliContext, move: MoveBody, wait: WaitOptions | null): Promise<CommandResult> {
  const now = (await ctx.api.call<ActiveView>('GET', `${scopePath(ctx)}/active`)).body;
  if (now.version !== move.active.version) {
    throw new CliError(
      'rollback_replay_stale',
      `a rollback with this Idempotency-Key already ran (to seq ${move.target.seq}, active version ${move.active.version}), ` +
        `but the active pointer moved since (now seq ${now.seq ?? 'none'}, version ${now.version}); nothing moved. ` +
        'To roll back again, give another --reason or --idempotency-key',
      EXIT.conflict,
    );
  }
  const lines = [
    `already rolled back to seq ${move.target.seq} (${shortDigest(move.target.digest)}), active version ${move.active.version}, ` +
      'by an earlier run with the same Idempotency-Key; nothing moved',
  ];
  const result = await finish(ctx, { ...move, moved: false }, lines, wait, 'spookyctl status');
  return { ...result, data: { ...(result.data as object), replayed: true } };
}

async function finish(ctx: CliContext, move: MoveBody, lines: string[], wait: WaitOptions | null, hint: string): Promise<CommandResult> {
  const data = { active: move.active, target: move.target, moved: move.moved, changes: changesOf(move.changes) ?? [], dryRun: move.dryRun === true };
  if (wait === null) {
    if (move.dryRun !== true) lines.push(`next: spookyctl status (fleet convergence), or ${hint}`);
    return { exitCode: EXIT.ok, data, lines };
  }
  const waited = await waitForFleet(ctx.api, { scope: ctx.globals.scope, ...move.target }, wait);
  return { exitCode: waited.exitCode, data: { ...data, ...(waited.data as object) }, lines: [...lines, ...waited.lines] };
}
