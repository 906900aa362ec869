/** JSON shapes the REST API returns (CONTROL-PLANE.md). Pure mapping from use-case results. */
import type { ActivePointer, GenerationMeta, NodeView } from '../generations/ports.ts';

export function activeView(pointer: ActivePointer | null) {
  if (!pointer) {
    return { seq: null, digest: null, version: 0, activatedAt: null, actor: null, reason: null, lkgSeq: null };
  }
  return {
    seq: pointer.seq,
    digest: pointer.digest,
    version: pointer.version,
    activatedAt: pointer.activatedAt,
    actor: pointer.actor,
    reason: pointer.reason,
    /** Last known good is not tracked yet. */
    lkgSeq: null,
  };
}

/** ETag of the active pointer: its version, quoted. */
export function activeEtag(pointer: ActivePointer | null): string {
  return `"${pointer?.version ?? 0}"`;
}

export function generationView(meta: GenerationMeta) {
  return {
    scope: meta.scope,
    seq: meta.seq,
    digest: meta.digest,
    sizeBytes: meta.sizeBytes,
    author: meta.author,
    reason: meta.reason,
    createdAt: meta.createdAt,
    parentSeq: meta.parentSeq,
  };
}

export function generationLocation(meta: GenerationMeta): string {
  return `/v1/scopes/${meta.scope}/generations/${meta.seq}`;
}

export function nodeView(node: NodeView) {
  return {
    nodeId: node.nodeId,
    bootId: node.bootId,
    scope: node.scope,
    labels: node.labels,
    state: node.state,
    serving: node.serving,
    source: node.source,
    schemaMin: node.schemaMin,
    schemaMax: node.schemaMax,
    build: node.build,
    connectedAt: node.connectedAt,
    lastSeenAt: node.lastSeenAt,
    lastAck: node.lastAck,
    lastNack: node.lastNack,
  };
}
