/** status and nodes: read-only views of the scope's fleet. */
import { type CliContext, scopePath } from '../cli-context.ts';
import { formatIssue } from '../cli-error.ts';
import { EXIT } from '../exit-codes.ts';
import type { FleetNode } from '../fleet-verdict.ts';
import { listNodes } from '../list-nodes.ts';
import { type CommandResult, shortDigest } from '../output.ts';

interface StatusBody {
  readonly scope: string;
  readonly active: { readonly seq: number; readonly digest: string } | null;
  readonly lkgSeq?: number | null;
  readonly nodes: {
    readonly total: number;
    readonly connected: number;
    readonly stale?: number;
    readonly disconnected?: number;
    readonly converged: number;
    readonly nacking: number;
  };
  readonly byGeneration?: readonly { readonly seq: number; readonly digest: string; readonly count: number }[];
}

export async function statusCommand(ctx: CliContext): Promise<CommandResult> {
  const { body } = await ctx.api.call<StatusBody>('GET', `${scopePath(ctx)}/status`);
  const n = body.nodes;
  const lines = [
    body.active === null
      ? `scope ${ctx.globals.scope}: nothing active`
      : `scope ${ctx.globals.scope}: active seq ${body.active.seq} (${shortDigest(body.active.digest)})${body.lkgSeq ? `, last known good seq ${body.lkgSeq}` : ''}`,
    `nodes: ${n.total} (${n.connected} connected, ${n.stale ?? 0} stale, ${n.disconnected ?? n.total - n.connected} disconnected); ${n.converged} serve the active generation, ${n.nacking} rejected it`,
  ];
  for (const g of body.byGeneration ?? []) lines.push(`  seq ${g.seq} (${shortDigest(g.digest)}): ${g.count} node(s)`);
  return { exitCode: EXIT.ok, data: body, lines };
}

type NodeBody = FleetNode & { readonly source?: string; readonly lastSeenAt?: string };

export async function nodesCommand(ctx: CliContext): Promise<CommandResult> {
  const items = await listNodes<NodeBody>(ctx.api, ctx.globals.scope);
  const body = { items };
  if (items.length === 0) return { exitCode: EXIT.ok, data: body, lines: [`no nodes in scope ${ctx.globals.scope}`] };
  const lines: string[] = [];
  for (const node of items) {
    const serving = node.serving ? `seq ${node.serving.seq} (${shortDigest(node.serving.digest)}) from ${node.source ?? '?'}` : 'nothing';
    lines.push(`${node.nodeId}  ${node.state}  serving ${serving}  last seen ${node.lastSeenAt ?? '?'}`);
    if (node.lastNack) {
      lines.push(`  last NACK: seq ${node.lastNack.seq} (${shortDigest(node.lastNack.digest)}), phase ${node.lastNack.phase}`);
      for (const issue of node.lastNack.issues) lines.push(`    ${formatIssue(issue)}`);
    }
  }
  return { exitCode: EXIT.ok, data: body, lines };
}
