/**
 * Fleet convergence of one scope, computed from the active pointer and the node records. Pure.
 * converged = connected and serving the active digest; nacking = connected, not serving the
 * active digest, and whose last NACK rejected it; byGeneration counts connected nodes per
 * served generation, newest seq first.
 */
import type { ActivePointer, NodeView } from './ports.ts';

export interface ScopeStatus {
  readonly scope: string;
  readonly active: { readonly seq: number; readonly digest: string } | null;
  readonly nodes: { readonly total: number; readonly connected: number; readonly converged: number; readonly nacking: number };
  readonly byGeneration: { readonly seq: number; readonly digest: string; readonly count: number }[];
}

export function scopeStatus(scope: string, active: ActivePointer | null, nodes: readonly NodeView[]): ScopeStatus {
  const connected = nodes.filter((n) => n.scope === scope && n.state === 'connected');
  const activeDigest = active?.digest ?? null;
  let converged = 0;
  let nacking = 0;
  const counts = new Map<string, { seq: number; digest: string; count: number }>();
  for (const node of connected) {
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
  return {
    scope,
    active: active ? { seq: active.seq, digest: active.digest } : null,
    nodes: {
      total: nodes.filter((n) => n.scope === scope).length,
      connected: connected.length,
      converged,
      nacking,
    },
    byGeneration: [...counts.values()].sort((a, b) => b.seq - a.seq),
  };
}
