/**
 * The fleet's view of a node's liveness, computed at read time (pure): a connected node that
 * sent nothing (Hello, Ack, Nack, Report) for more than STALE_AFTER_REPORTS report intervals
 * is `stale`; its session may still be open, but what it says it serves may be out of date.
 */
import type { NodeState, NodeView } from './ports.ts';

export const STALE_AFTER_REPORTS = 3;

export function liveState(node: NodeView, nowMs: number, reportIntervalMs: number): NodeState {
  if (node.state !== 'connected') return node.state;
  const silentMs = nowMs - Date.parse(node.lastSeenAt);
  return silentMs > STALE_AFTER_REPORTS * reportIntervalMs ? 'stale' : 'connected';
}

export function withLiveState(node: NodeView, nowMs: number, reportIntervalMs: number): NodeView {
  const state = liveState(node, nowMs, reportIntervalMs);
  return state === node.state ? node : { ...node, state };
}
