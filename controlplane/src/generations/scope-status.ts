/**
 * Fleet convergence of one scope, computed from the active pointer, the LKG and the node
 * records (with their live state already derived, see node-state.ts). Pure.
 *   nodes.connected / stale / disconnected partition nodes.total;
 *   converged = connected or stale, serving the active digest;
 *   nacking = connected or stale, not serving the active digest, last NACK rejected it;
 *   byGeneration counts connected and stale nodes per served generation, newest seq first.
 */
import type { ActivePointer, NodeView } from './ports.ts';

export interface ScopeStatus {
  readonly scope: string;
  readonly active: { readonly seq: number; readonly digest: string } | null;
  readonly lkgSeq: number | null;
  readonly nodes: {
    readonly total: number;
    readonly connected: number;
    readonly stale: number;
    readonly disconnected: number;
    readonly converged: number;
    readonly nacking: number;
  };
  readonly byGeneration: { readonly seq: number; readonly digest: string; readonly count: number }[];
}

export function scopeStatus(
  scope: string,
  active: ActivePointer | null,
  lkgSeq: number | null,
  nodes: readonly NodeView[],
): ScopeStatus {
  const mine = nodes.filter((n) => n.scope === scope);
  const attached = mine.filter((n) => n.state !== 'disconnected');
  const activeDigest = active?.digest ?? null;
  let converged = 0;
  let nacking = 0;
  const counts = new Map<string, { seq: number; digest: string; count: number }>();
  for (const node of attached) {
    const servesActive = activeDigest !== null && node.serving?.digest === activeDigest;
    if (servesActive) converged += 1;
    else if (activeDigest !== null && node.lastNack?.digest === activeDigest) nacking += 1;
    if (node.serving) {
      const key = `${node.serving.seq}/${node.serving.digest}`;
      const entry = counts.get(key) ?? { seq: node.serving.seq, digest: node.serving.digest, count: 0 };
      entry.count += 1;
      counts.set(key, entry);
    }
  }
  const count = (state: NodeView['state']): number => mine.filter((n) => n.state === state).length;
  return {
    scope,
    active: active ? { seq: active.seq, digest: active.digest } : null,
    lkgSeq,
    nodes: {
      total: mine.length,
      connected: count('connected'),
      stale: count('stale'),
      disconnected: count('disconnected'),
      converged,
      nacking,
    },
    byGeneration: [...counts.values()].sort((a, b) => b.seq - a.seq),
  };
}
