/**
 * The operator actions of the REST API and which permissions each needs (any one of the list
 * suffices, `admin` implies all): the one table the routes declare their `config.permission`
 * from and GET /v1/whoami answers from, so the console offers exactly what the server will
 * let the token do. The server stays the authority: a verdict here is advice for the UI, and a
 * route still answers 403 to a token that lacks the permission.
 *
 * Not covered here: an immediate activation in a scope whose default strategy is staged also
 * needs `config:activate-immediate` (activation-strategy.ts); `activate` here is what the
 * scope's default strategy needs.
 */
import { canAccessScope, hasPermission, type Permission, type Principal } from './permissions.ts';

export const ACTION_PERMISSIONS = {
  /** Read generations, diffs, the active pointer, rollouts, policies. */
  'config.read': ['config:read'],
  /** Create a generation. */
  'generation.create': ['config:write'],
  /** Move the active pointer (PUT …/active), or start a staged rollout. */
  activate: ['config:activate'],
  /** Roll back to previous / LKG / a seq. */
  rollback: ['config:rollback'],
  'rollout.pause': ['config:activate'],
  'rollout.resume': ['config:activate'],
  'rollout.abort': ['config:activate', 'config:rollback'],
  /** Skip the current stage's soak. */
  'rollout.promote': ['config:activate-immediate'],
  /** Store a rollout policy; lift a scope's freeze. */
  'rollout.policy': ['rollout:policy'],
  'scope.unfreeze': ['rollout:policy'],
  /** Nodes, scope status, the event stream. */
  'fleet.read': ['fleet:read'],
  'audit.read': ['audit:read'],
} as const satisfies Readonly<Record<string, readonly Permission[]>>;

export type Action = keyof typeof ACTION_PERMISSIONS;

/** May the token do it? `needs` lists the permissions of which any one suffices; `reason` says why not. */
export interface ActionVerdict {
  readonly allowed: boolean;
  readonly needs: readonly Permission[];
  readonly reason: string | null;
}

/**
 * Every action's verdict for `principal`, in `scope` when given (null: the permissions alone,
 * for actions that name no scope or before one is chosen). Pure.
 */
export function actionVerdicts(principal: Principal, scope: string | null): Record<Action, ActionVerdict> {
  const inScope = scope === null || canAccessScope(principal, scope);
  const out = {} as Record<Action, ActionVerdict>;
  for (const [action, needs] of Object.entries(ACTION_PERMISSIONS) as [Action, readonly Permission[]][]) {
    const permitted = needs.some((p) => hasPermission(principal, p));
    const reason = !inScope
      ? `the token may not access scope ${scope}`
      : permitted
        ? null
        : `the token lacks permission ${needs.join(' or ')}`;
    out[action] = { allowed: reason === null, needs, reason };
  }
  return out;
}
