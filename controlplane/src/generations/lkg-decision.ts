/**
 * When does the active generation become the scope's last known good? Pure.
 * Rule: it is not marked failed, at least one node of the scope is connected (stale counts:
 * its session is open), and EVERY connected node serves its digest without an unanswered NACK
 * for it (a NACK later superseded by an ACK of the same digest does not count).
 * Returns the generation to record as LKG, or null when nothing changes.
 */
import type { LkgRecord } from './lifecycle-ports.ts';
import type { ActivePointer, NodeView } from './ports.ts';

export function nextLkg(
  active: ActivePointer | null,
  activeFailed: boolean,
  currentLkg: LkgRecord | null,
  nodes: readonly NodeView[],
): { readonly seq: number; readonly digest: string } | null {
  if (!active || activeFailed) return null;
  if (currentLkg?.seq === active.seq) return null;
  const connected = nodes.filter((n) => n.scope === active.scope && n.state !== 'disconnected');
  if (connected.length === 0) return null;
  return connected.some((n) => blocksLkg(n, active)) ? null : { seq: active.seq, digest: active.digest };
}

/**
 * True when `node` alone keeps `active` from becoming the LKG: it is a connected node of the
 * scope that does not serve the active digest, or has an unanswered NACK for it. (While any
 * node blocks, nextLkg is null; callers may re-check a known blocker instead of every node.)
 */
export function blocksLkg(node: NodeView, active: Pick<ActivePointer, 'scope' | 'digest'>): boolean {
  if (node.scope !== active.scope || node.state === 'disconnected') return false;
  return node.serving?.digest !== active.digest || nackOutstanding(node, active.digest);
}

function nackOutstanding(node: NodeView, digest: string): boolean {
  const nack = node.lastNack;
  if (!nack || nack.digest !== digest) return false;
  const ack = node.lastAck;
  return !(ack && ack.digest === digest && Date.parse(ack.at) >= Date.parse(nack.at));
}
