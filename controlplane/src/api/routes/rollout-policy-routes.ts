/**
 * The rollout policy of a scope (docs/rollout.md §1; staged rollout: policy storage only —
 * rollouts themselves are not driven yet). GET answers the current version, or the default
 * policy at version 0, with `ETag: "<version>"`. PUT stores a new version: `If-Match` is
 * required (428 without; 412 rollout_policy_changed when stale; `"0"` before the first), the
 * JSON body is checked by the strict policy validator (422 rollout_policy_invalid with every
 * issue as a JSON Pointer) and the stored policy has every default filled in. Writes need
 * `rollout:policy`, reads `config:read`.
 */
import type { FastifyInstance } from 'fastify';
import { CpError } from '../../errors.ts';
import type { CurrentPolicy } from '../../rollout/rollout-policy-service.ts';
import type { ApiDeps } from '../api-deps.ts';
import { actorOf } from '../guard.ts';
import { ifMatchVersion } from '../if-match.ts';

/** A policy is a handful of stages and thresholds; anything near this is not one. */
const POLICY_BODY_LIMIT = 64 * 1024;

export async function rolloutPolicyRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  app.get<{ Params: { scope: string } }>(
    '/v1/scopes/:scope/rollout-policy',
    { config: { permission: 'config:read' } },
    async (request, reply) => {
      const current = deps.rolloutPolicies.current(request.params.scope);
      reply.header('etag', `"${current.version}"`);
      return policyView(current);
    },
  );

  app.put<{ Params: { scope: string }; Body: unknown }>(
    '/v1/scopes/:scope/rollout-policy',
    { config: { permission: 'rollout:policy', mutating: true }, bodyLimit: POLICY_BODY_LIMIT },
    async (request, reply) => {
      const expected = ifMatchVersion(request.headers['if-match']);
      if (expected === null) {
        throw new CpError('precondition_required', 'send If-Match with the rollout policy ETag ("0" before the first version)');
      }
      const stored = deps.rolloutPolicies.put(request.params.scope, request.body, expected, actorOf(request));
      reply.header('etag', `"${stored.version}"`);
      return policyView(stored);
    },
  );
}

function policyView(p: CurrentPolicy) {
  return {
    scope: p.scope,
    version: p.version,
    default: p.isDefault,
    policy: p.policy,
    author: p.author,
    reason: p.reason,
    createdAt: p.createdAt,
  };
}
