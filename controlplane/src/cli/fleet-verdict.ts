/**
 * The --wait decision, pure: given the target generation, the scope's active seq and the node
 * records, is the fleet done, has it rejected the target, or is it still moving?
 *
 * - Only `connected` nodes are awaited; stale and disconnected ones cannot answer, so they are
 *   listed (`ignored`) but never block.
 * - `need` (--min-nodes, --require-nodes) says how much of a fleet must be there: the verdict is
 *   `converged` only when at least `minNodes` connected nodes serve the target and every node
 *   in `requireNodes` is connected and serves it. Short of that it stays `pending` (a node may
 *   still connect), so the wait ends at its timeout (exit 6) instead of going green. With the
 *   default need (0, none) and no connected node the verdict is `converged` at once: nothing to
 *   wait for (the CLI prints a warning then).
 * - A connected node rejected the target when its last NACK names the target digest and it does
 *   not serve it. Any such NACK ends the wait as `rejected`, retryable or not: CI wants the
 *   answer now, and a retryable NACK (e.g. a certificate file missing on the node) needs a
 *   human anyway. The rejection says `retryable` (the control plane keeps resending it with
 *   backoff, so the fleet may still converge once the node is fixed).
 * - When the active pointer no longer names the target (rolled back or superseded), waiting
 *   is pointless: `superseded`.
 */
import type { CliIssue } from './cli-error.ts';

export interface FleetNode {
  readonly nodeId: string;
  readonly state: string;
  readonly serving: { readonly seq: number; readonly digest: string } | null;
  readonly lastNack: {
    readonly seq: number;
    readonly digest: string;
    readonly phase: string;
    readonly retryable: boolean;
    readonly issues: readonly CliIssue[];
  } | null;
}

export interface NodeRejection {
  readonly nodeId: string;
  readonly phase: string;
  readonly retryable: boolean;
  readonly issues: readonly CliIssue[];
}

/** How much of the fleet a wait needs (--min-nodes, --require-nodes); NO_NEED = today's rule. */
export interface FleetNeed {
  readonly minNodes: number;
  readonly requireNodes: readonly string[];
}

export const NO_NEED: FleetNeed = { minNodes: 0, requireNodes: [] };

export type FleetVerdict =
  | { readonly kind: 'converged'; readonly nodes: readonly string[]; readonly ignored: readonly string[] }
  | { readonly kind: 'rejected'; readonly rejections: readonly NodeRejection[] }
  | { readonly kind: 'superseded'; readonly activeSeq: number | null }
  | {
      readonly kind: 'pending';
      readonly converged: readonly string[];
      /** Connected nodes that serve something else (neither applied nor rejected the target yet). */
      readonly waitingFor: readonly string[];
      /** Required nodes (--require-nodes) that are not connected. */
      readonly missing: readonly string[];
      /** How many more serving nodes --min-nodes asks for (0 when met). */
      readonly shortBy: number;
    };

export function fleetVerdict(
  target: { readonly seq: number; readonly digest: string },
  activeSeq: number | null,
  nodes: readonly FleetNode[],
  need: FleetNeed = NO_NEED,
): FleetVerdict {
  if (activeSeq !== target.seq) return { kind: 'superseded', activeSeq };
  const connected = nodes.filter((n) => n.state === 'connected');
  const ignored = nodes.filter((n) => n.state !== 'connected').map((n) => n.nodeId);
  const converged: string[] = [];
  const waitingFor: string[] = [];
  const rejections: NodeRejection[] = [];
  for (const node of connected) {
    if (node.serving?.digest === target.digest) {
      converged.push(node.nodeId);
      continue;
    }
    const nack = node.lastNack;
    if (nack && nack.digest === target.digest) {
      rejections.push({ nodeId: node.nodeId, phase: nack.phase, retryable: nack.retryable, issues: nack.issues });
      continue;
    }
    waitingFor.push(node.nodeId);
  }
  if (rejections.length > 0) return { kind: 'rejected', rejections };
  const connectedIds = new Set(connected.map((n) => n.nodeId));
  const missing = need.requireNodes.filter((id) => !connectedIds.has(id));
  const shortBy = Math.max(0, need.minNodes - converged.length);
  if (waitingFor.length === 0 && missing.length === 0 && shortBy === 0) return { kind: 'converged', nodes: converged, ignored };
  return { kind: 'pending', converged, waitingFor, missing, shortBy };
}
