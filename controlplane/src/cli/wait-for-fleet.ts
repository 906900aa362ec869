/**
 * --wait: polls GET /v1/scopes/{scope}/status and GET /v1/nodes?scope= until fleetVerdict
 * says the fleet converged, rejected or moved on, or the deadline passes. Polling (every
 * POLL_INTERVAL_MS) is deliberate: a CLI run is short-lived and needs no event cursor.
 * The result is a CommandResult: 0 converged, 5 rejected or superseded, 6 timed out — which
 * includes "fewer than --min-nodes nodes serve the target" and "a --require-nodes node is not
 * there" at the deadline. Converging with no connected node at all (the default --min-nodes 0)
 * is 0 with a warning line, since nothing was verified.
 */
import type { ApiClient } from './api-client.ts';
import type { WaitOptions } from './args.ts';
import { formatIssue } from './cli-error.ts';
import { EXIT } from './exit-codes.ts';
import { type FleetNode, type FleetVerdict, fleetVerdict, type NodeRejection } from './fleet-verdict.ts';
import { listNodes } from './list-nodes.ts';
import { type CommandResult, shortDigest } from './output.ts';

export const POLL_INTERVAL_MS = 250;

export interface WaitTarget {
  readonly scope: string;
  readonly seq: number;
  readonly digest: string;
}

interface StatusBody {
  readonly active: { readonly seq: number; readonly digest: string } | null;
}

export async function waitForFleet(api: ApiClient, target: WaitTarget, wait: WaitOptions): Promise<CommandResult> {
  const started = Date.now();
  const deadline = started + wait.timeoutMs;
  const need = { minNodes: wait.minNodes, requireNodes: wait.requireNodes };
  const scope = encodeURIComponent(target.scope);
  for (;;) {
    const [status, nodes] = await Promise.all([
      api.call<StatusBody>('GET', `/v1/scopes/${scope}/status`),
      listNodes<FleetNode>(api, target.scope),
    ]);
    const verdict = fleetVerdict(target, status.body.active?.seq ?? null, nodes, need);
    const elapsedMs = Date.now() - started;
    if (verdict.kind !== 'pending') return finished(target, verdict, elapsedMs);
    if (Date.now() >= deadline) return timedOut(target, verdict, wait, elapsedMs);
    await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_INTERVAL_MS, Math.max(deadline - Date.now(), 0))));
  }
}

function finished(target: WaitTarget, verdict: Exclude<FleetVerdict, { kind: 'pending' }>, elapsedMs: number): CommandResult {
  switch (verdict.kind) {
    case 'converged': {
      const lines =
        verdict.nodes.length === 0
          ? [
              `warning: no connected node in scope ${target.scope}: nothing to wait for, nothing verified (--min-nodes 1 makes this fail)`,
            ]
          : [`converged: ${verdict.nodes.length} node(s) serve seq ${target.seq} (${shortDigest(target.digest)}) after ${seconds(elapsedMs)}`];
      if (verdict.ignored.length > 0) lines.push(`not connected (not awaited): ${verdict.ignored.join(', ')}`);
      const warning = verdict.nodes.length === 0 ? { warning: 'no_connected_node' } : {};
      return { exitCode: EXIT.ok, data: { wait: { outcome: 'converged', elapsedMs, nodes: verdict.nodes, ignored: verdict.ignored, ...warning } }, lines };
    }
    case 'rejected':
      return rejected(target, verdict.rejections, elapsedMs);
    case 'superseded':
      return {
        exitCode: EXIT.rejected,
        data: { wait: { outcome: 'superseded', elapsedMs, activeSeq: verdict.activeSeq } },
        lines: [`the active pointer moved to seq ${verdict.activeSeq ?? 'none'} while waiting for seq ${target.seq} (rolled back or superseded)`],
      };
  }
}

function timedOut(
  target: WaitTarget,
  verdict: Extract<FleetVerdict, { kind: 'pending' }>,
  wait: WaitOptions,
  elapsedMs: number,
): CommandResult {
  const why: string[] = [];
  if (verdict.waitingFor.length > 0) why.push(`still waiting for ${verdict.waitingFor.join(', ')}`);
  if (verdict.shortBy > 0) why.push(`--min-nodes ${wait.minNodes} needs ${verdict.shortBy} more`);
  if (verdict.missing.length > 0) why.push(`required node(s) not connected: ${verdict.missing.join(', ')}`);
  const { converged, waitingFor, missing, shortBy } = verdict;
  return {
    exitCode: EXIT.timeout,
    data: { wait: { outcome: 'timeout', elapsedMs, converged, waitingFor, missing, shortBy, minNodes: wait.minNodes } },
    lines: [
      `timed out after ${seconds(elapsedMs)}: ${converged.length} node(s) serve seq ${target.seq}, ${why.join('; ')}`,
      'next: spookyctl nodes (what each node serves) or spookyctl rollback --to previous',
    ],
  };
}

function rejected(target: WaitTarget, rejections: readonly NodeRejection[], elapsedMs: number): CommandResult {
  const lines = [`rejected: ${rejections.length} node(s) NACKed seq ${target.seq} (${shortDigest(target.digest)}) and keep serving their previous generation`];
  for (const r of rejections) {
    lines.push(`  ${r.nodeId} (phase ${r.phase}${r.retryable ? ', retryable: the control plane resends it, fix the node or roll back' : ''}):`);
    for (const issue of r.issues) lines.push(`    ${formatIssue(issue)}`);
  }
  lines.push('next: fix the config and push again, or spookyctl rollback --to previous');
  return { exitCode: EXIT.rejected, data: { wait: { outcome: 'rejected', elapsedMs, rejections } }, lines };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}
