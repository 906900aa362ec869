/** JSON shapes the REST API returns (CONTROL-PLANE.md). Pure mapping from use-case results. */
import type { NodeHistoryEntry } from '../generations/lifecycle-ports.ts';
import type { ActivePointer, AuditEntry, GenerationMeta, NodeView } from '../generations/ports.ts';

/** `lkgSeq`: the scope's last known good seq, null while none is recorded. */
export function activeView(pointer: ActivePointer | null, lkgSeq: number | null) {
  if (!pointer) {
    return { seq: null, digest: null, version: 0, activatedAt: null, actor: null, reason: null, lkgSeq };
  }
  return {
    seq: pointer.seq,
    digest: pointer.digest,
    version: pointer.version,
    activatedAt: pointer.activatedAt,
    actor: pointer.actor,
    reason: pointer.reason,
    lkgSeq,
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
    failed: meta.failedReason !== null,
    failedReason: meta.failedReason,
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
    candidate: node.candidate,
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

export function nodeDetailView(node: NodeView, history: readonly NodeHistoryEntry[]) {
  return {
    ...nodeView(node),
    history: history.map((h) => ({
      kind: h.kind,
      at: h.at,
      bootId: h.bootId,
      ...(h.seq === null ? {} : { seq: h.seq, digest: h.digest }),
      ...(h.phase === null ? {} : { phase: h.phase }),
    })),
  };
}

/** One audit entry; `detail` is parsed, and canonicalJson(detail) is what `hash` covers. */
export function auditView(entry: AuditEntry) {
  return {
    id: entry.id,
    at: entry.at,
    actor: entry.actor,
    action: entry.action,
    scope: entry.scope,
    detail: JSON.parse(entry.detail) as unknown,
    prev_hash: entry.prev_hash,
    hash: entry.hash,
  };
}
