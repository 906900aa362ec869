/**
 * --wait: polls GET /v1/scopes/{scope}/status and GET /v1/nodes?scope= until fleetVerdict
 * says the fleet converged, rejected or moved on, or the deadline passes. Polling (every
 * POLL_INTERVAL_MS) is deliberate: a CLI run is short-lived and needs no event cursor.
 * The result is a CommandResult: 0 converged, 5 rejected or superseded, 6 timed out.
 */
import type { ApiClient } from './api-client.ts';
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

export async function waitForFleet(api: ApiClient, target: WaitTarget, timeoutMs: number): Promise<CommandResult> {
  const started = Date.now();
  const deadline = started + timeoutMs;
  const scope = encodeURIComponent(target.scope);
  for (;;) {
    const [status, nodes] = await Promise.all([
      api.call<StatusBody>('GET', `/v1/scopes/${scope}/status`),
      listNodes<FleetNode>(api, target.scope),
    ]);
    const verdict = fleetVerdict(target, status.body.active?.seq ?? null, nodes);
    const elapsedMs = Date.now() - started;
    if (verdict.kind !== 'pending') return finished(target, verdict, elapsedMs);
    if (Date.now() >= deadline) {
      return {
        exitCode: EXIT.timeout,
        data: { wait: { outcome: 'timeout', elapsedMs, converged: verdict.converged, waitingFor: verdict.waitingFor } },
        lines: [
          `timed out after ${seconds(elapsedMs)}: ${verdict.converged.length} node(s) serve seq ${target.seq}, still waiting for ${verdict.waitingFor.join(', ')}`,
          'next: spookyctl nodes (what each node serves) or spookyctl rollback --to previous',
        ],
      };
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_INTERVAL_MS, Math.max(deadline - Date.now(), 0))));
  }
}

function finished(target: WaitTarget, verdict: Exclude<FleetVerdict, { kind: 'pending' }>, elapsedMs: number): CommandResult {
  switch (verdict.kind) {
    case 'converged': {
      const lines =
        verdict.nodes.length === 0
          ? [`no connected node in scope ${target.scope}: nothing to wait for`]
          : [`converged: ${verdict.nodes.length} node(s) serve seq ${target.seq} (${shortDigest(target.digest)}) after ${seconds(elapsedMs)}`];
      if (verdict.ignored.length > 0) lines.push(`not connected (not awaited): ${verdict.ignored.join(', ')}`);
      return { exitCode: EXIT.ok, data: { wait: { outcome: 'converged', elapsedMs, nodes: verdict.nodes, ignored: verdict.ignored } }, lines };
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
