/** diff, history and audit verify: read-only views of generations and the audit trail. */
import { type CliContext, scopePath } from '../cli-context.ts';
import { CliError } from '../cli-error.ts';
import { EXIT } from '../exit-codes.ts';
import { type CommandResult, shortDigest } from '../output.ts';
import { changeLines, changesOf } from './change-lines.ts';

/** Field-level diff; with `detailed`, exit 2 when there are changes (like `plan`). */
export async function diffCommand(ctx: CliContext, from: number | 'active', to: number | 'active', detailed = false): Promise<CommandResult> {
  const { body } = await ctx.api.call<unknown>('GET', `${scopePath(ctx)}/diff?from=${from}&to=${to}`);
  const changes = changesOf(body) ?? [];
  const side = (s: number | 'active') => (s === 'active' ? 'active' : `seq ${s}`);
  const lines = [`${side(from)} → ${side(to)}: ${changes.length} change(s)`];
  if (changes.length > 0) lines.push(...changeLines(changes));
  return { exitCode: detailed && changes.length > 0 ? EXIT.changes : EXIT.ok, data: body, lines };
}

interface GenerationItem {
  readonly seq: number;
  readonly digest: string;
  readonly createdAt: string;
  readonly author: string;
  readonly reason: string;
  readonly failed?: boolean;
}

export async function historyCommand(ctx: CliContext, limit: number | null): Promise<CommandResult> {
  const query = limit === null ? '' : `?limit=${limit}`;
  const [page, active] = await Promise.all([
    ctx.api.call<{ items: GenerationItem[]; next: number | null }>('GET', `${scopePath(ctx)}/generations${query}`),
    ctx.api.call<{ seq: number | null }>('GET', `${scopePath(ctx)}/active`),
  ]);
  const items = page.body.items ?? [];
  if (items.length === 0) return { exitCode: EXIT.ok, data: page.body, lines: [`no generations in scope ${ctx.globals.scope}`] };
  const lines = items.map((g) => {
    const mark = g.seq === active.body.seq ? '*' : ' ';
    return `${mark} ${String(g.seq).padStart(4)}  ${shortDigest(g.digest)}  ${g.createdAt}  ${g.author}: ${g.reason}${g.failed ? '  [failed]' : ''}`;
  });
  lines.push('(* = active; [failed] = rejected by the fleet, activate again only with --force)');
  if (page.body.next !== null) lines.push(`more: older generations exist below seq ${page.body.next}`);
  return { exitCode: EXIT.ok, data: page.body, lines };
}

interface AuditVerifyBody {
  readonly ok?: boolean;
  readonly entries?: number;
  readonly brokenAt?: number;
  readonly reason?: string;
}

/** audit verify → 0 when the hash chain is intact; a broken chain is an error (exit 1). */
export async function auditVerifyCommand(ctx: CliContext): Promise<CommandResult> {
  const { body } = await ctx.api.call<AuditVerifyBody>('GET', '/v1/audit/verify');
  if (body.ok === false) {
    throw new CliError('audit_chain_broken', `audit chain broken at entry ${body.brokenAt ?? '?'}: ${body.reason ?? 'unknown reason'}`, EXIT.error);
  }
  return { exitCode: EXIT.ok, data: body, lines: [`audit chain intact${body.entries === undefined ? '' : ` (${body.entries} entries)`}`] };
}
