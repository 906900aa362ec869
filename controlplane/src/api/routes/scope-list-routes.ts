/**
 * GET /v1/scopes — every scope the token may access, by name: one that has a generation, or
 * nodes that said they belong to it (a node may connect before its scope has any config).
 * Each item: the active pointer (null before the first activation), the LKG seq, the live
 * rollout (running or paused; null when none or without a rollout service), whether the
 * scope is frozen, and its node counts by state (scope-status.ts `nodes`). Needs config:read;
 * the node counts need fleet:read as well and are null without it (the list stays useful to a
 * config-only token). Not paged: scopes are few (the list is bounded by what was created).
 */
import type { FastifyInstance } from 'fastify';
import { canAccessScope, hasPermission } from '../../auth/permissions.ts';
import type { ActivePointer, NodeView } from '../../generations/ports.ts';
import { scopeStatus } from '../../generations/scope-status.ts';
import type { RolloutView } from '../../rollout/rollout-control.ts';
import type { ApiDeps } from '../api-deps.ts';

export async function scopeListRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  app.get('/v1/scopes', { config: { permission: 'config:read' } }, async (request) => {
    const principal = request.principal!;
    const withNodes = hasPermission(principal, 'fleet:read');
    const nodesByScope = new Map<string, NodeView[]>();
    for (const node of deps.fleet.listNodes(null)) {
      const list = nodesByScope.get(node.scope) ?? [];
      list.push(node);
      nodesByScope.set(node.scope, list);
    }
    const names = new Set([...deps.generations.scopes(), ...nodesByScope.keys()]);
    const items = [...names]
      .filter((scope) => canAccessScope(principal, scope))
      .sort()
      .map((scope) => {
        const pointer = deps.active.getActive(scope);
        const lkgSeq = deps.active.lkg(scope)?.seq ?? null;
        return {
          scope,
          active: activeSummary(pointer),
          lkgSeq,
          rollout: rolloutSummary(deps.rollouts?.live(scope) ?? null),
          frozen: deps.rollouts?.freezeState(scope).frozen ?? false,
          nodes: withNodes ? scopeStatus(scope, pointer, lkgSeq, nodesByScope.get(scope) ?? []).nodes : null,
        };
      });
    return { items };
  });
}

function activeSummary(pointer: ActivePointer | null) {
  if (!pointer) return null;
  return { seq: pointer.seq, digest: pointer.digest, version: pointer.version, activatedAt: pointer.activatedAt, actor: pointer.actor };
}

/** The live rollout in brief: its id, target, status and the stage it is in (1-based `stage` of `stages`). */
function rolloutSummary(view: RolloutView | null) {
  if (!view) return null;
  const stage = view.stages[view.currentStage];
  return {
    id: view.id,
    targetSeq: view.targetSeq,
    status: view.status,
    stage: view.currentStage + 1,
    stages: view.stages.length,
    stageName: stage?.name ?? null,
  };
}
