/**
 * Staged rollouts from the shell (docs/rollout.md §6): `rollout list|get|wait|pause|resume|
 * promote|abort` and the wait of `activate --staged --wait`. Waiting loops on the server's
 * long-poll (GET /v1/rollouts/{id}/wait) in slices shorter than the client's request timeout
 * until the rollout is final or --timeout passed. Exit codes: 0 promoted, 5 rolled back or
 * aborted, 6 still live at the timeout (EXIT.rejected / EXIT.timeout, the fleet wait's codes).
 */
import type { RolloutCommand } from '../args.ts';
import type { CliContext } from '../cli-context.ts';
import { EXIT, type ExitCode } from '../exit-codes.ts';
import type { CommandResult } from '../output.ts';
import { type RolloutViewBody, rolloutLines } from './rollout-lines.ts';

/** One long-poll request lasts at most this (below the client's 30 s request timeout). */
export const WAIT_SLICE_MS = 25_000;

interface RolloutSummaryBody {
  readonly id: string;
  readonly targetSeq: number;
  readonly lkgSeq: number;
  readonly status: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

const rolloutPath = (id: string): string => `/v1/rollouts/${encodeURIComponent(id)}`;

/** The exit code a rollout's status means for CI. */
export function rolloutExit(view: RolloutViewBody): ExitCode {
  if (!view.final) return EXIT.timeout;
  return view.status === 'promoted' ? EXIT.ok : EXIT.rejected;
}

/** Waits until the rollout is final or `timeoutMs` passed (monotonic clock); returns the last view. */
export async function waitRollout(ctx: CliContext, id: string, timeoutMs: number): Promise<RolloutViewBody> {
  const deadline = performance.now() + timeoutMs;
  let view = (await ctx.api.call<RolloutViewBody>('GET', rolloutPath(id))).body;
  for (;;) {
    const left = Math.ceil(deadline - performance.now());
    if (view.final || left <= 0) return view;
    const slice = Math.min(left, WAIT_SLICE_MS);
    view = (await ctx.api.call<RolloutViewBody>('GET', `${rolloutPath(id)}/wait?timeout=${slice}ms`)).body;
  }
}

/** The result of a rollout that was started or waited for, with the exit code of its status. */
export function rolloutResult(view: RolloutViewBody, lead: readonly string[], waited: boolean): CommandResult {
  const lines = [...lead, ...rolloutLines(view)];
  if (!waited) {
    lines.push(`next: spookyctl rollout wait ${view.id} (exit 0 promoted, 5 rolled back or aborted, 6 timed out)`);
    return { exitCode: EXIT.ok, data: { rollout: view }, lines };
  }
  const exitCode = rolloutExit(view);
  if (exitCode === EXIT.timeout) lines.push(`timed out waiting: rollout ${view.id} is still ${view.status}`);
  return { exitCode, data: { rollout: view, timedOut: !view.final }, lines };
}

export async function rolloutCommand(ctx: CliContext, cmd: RolloutCommand): Promise<CommandResult> {
  const id = cmd.id ?? '';
  switch (cmd.action) {
    case 'list': {
      const query = `scope=${encodeURIComponent(ctx.globals.scope)}${cmd.limit === null ? '' : `&limit=${cmd.limit}`}`;
      const items = (await ctx.api.call<{ items: RolloutSummaryBody[] }>('GET', `/v1/rollouts?${query}`)).body.items;
      const lines =
        items.length === 0
          ? [`no rollouts in scope ${ctx.globals.scope}`]
          : items.map((r) => `${r.id}  seq ${r.targetSeq} (from LKG ${r.lkgSeq})  ${r.status.padEnd(11)}  ${r.createdAt}`);
      return { exitCode: EXIT.ok, data: { items }, lines };
    }
    case 'get': {
      const view = (await ctx.api.call<RolloutViewBody>('GET', rolloutPath(id))).body;
      return { exitCode: EXIT.ok, data: { rollout: view }, lines: rolloutLines(view) };
    }
    case 'wait':
      return rolloutResult(await waitRollout(ctx, id, cmd.timeoutMs), [], true);
    default: {
      const answer = await ctx.api.call<RolloutViewBody>('POST', `${rolloutPath(id)}/${cmd.action}`, {
        json: cmd.reason === null ? {} : { reason: cmd.reason },
        ...(cmd.reason === null ? {} : { reason: cmd.reason }),
      });
      return { exitCode: EXIT.ok, data: { rollout: answer.body }, lines: [`${cmd.action}: done`, ...rolloutLines(answer.body)] };
    }
  }
}
