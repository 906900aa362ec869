/**
 * `diff FROM TO --requests FILE`: the behavioural diff. FILE is JSON, either a list of sample
 * requests or `{"requests": [...]}`, each `{method, host, path, headers?}` (at most 1000). The
 * control plane resolves every request against both generations with the reference router and
 * says which would reach another upstream. Exit 0; with --detailed-exitcode 2 when any changes.
 */
import { readFile } from 'node:fs/promises';
import { type CliContext, scopePath } from '../cli-context.ts';
import { CliError } from '../cli-error.ts';
import { EXIT } from '../exit-codes.ts';
import type { CommandResult } from '../output.ts';

interface SampleRequest {
  readonly method: string;
  readonly host: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
}

interface BehaviourResult {
  readonly request: SampleRequest;
  readonly before: { readonly upstream: string } | null;
  readonly after: { readonly upstream: string } | null;
  readonly changed: boolean;
}

/** Reads the sample-requests file; a usage error (exit 1) names what is wrong with it. */
export async function readSampleRequests(path: string): Promise<unknown[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new CliError('usage', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, EXIT.error);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new CliError('usage', `${path} is not JSON: ${(err as Error).message}`, EXIT.error);
  }
  const list = Array.isArray(parsed) ? parsed : (parsed as { requests?: unknown } | null)?.requests;
  if (!Array.isArray(list)) throw new CliError('usage', `${path} must hold a list of requests or {"requests": [...]}`, EXIT.error);
  return list;
}

export async function behaviourDiffCommand(
  ctx: CliContext,
  from: number | 'active',
  to: number | 'active',
  requestsFile: string,
  detailed: boolean,
): Promise<CommandResult> {
  const requests = await readSampleRequests(requestsFile);
  const { body } = await ctx.api.call<{ results?: BehaviourResult[] }>('POST', `${scopePath(ctx)}/diff/behaviour`, {
    json: { from, to, requests },
  });
  const results = body.results ?? [];
  const changed = results.filter((r) => r.changed);
  const side = (s: number | 'active') => (s === 'active' ? 'active' : `seq ${s}`);
  const where = (x: BehaviourResult['before']) => (x === null ? '(no route)' : x.upstream);
  const lines = [`${side(from)} → ${side(to)}: ${changed.length} of ${results.length} sample request(s) change upstream`];
  for (const r of changed) {
    lines.push(`  ${r.request.method} ${r.request.host}${r.request.path}: ${where(r.before)} → ${where(r.after)}`);
  }
  return { exitCode: detailed && changed.length > 0 ? EXIT.changes : EXIT.ok, data: body, lines };
}
