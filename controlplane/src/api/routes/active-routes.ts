/**
 * The active pointer: GET (ETag = version), PUT (activate, If-Match required), POST rollback
 * (If-Match optional). Responses: {active, changes} with the new ETag; `changes` stays empty
 * until the config diff exists.
 */
import type { FastifyInstance } from 'fastify';
import { CpError } from '../../errors.ts';
import type { MoveResult, RollbackTarget } from '../../generations/active-service.ts';
import type { ApiDeps } from '../api-deps.ts';
import { actorOf } from '../guard.ts';
import { ifMatchVersion } from '../if-match.ts';
import { activeEtag, activeView } from '../views.ts';

const activateBody = {
  type: 'object',
  properties: { seq: { type: 'integer', minimum: 1 }, dryRun: { type: 'boolean' } },
  required: ['seq'],
  additionalProperties: false,
} as const;

const rollbackBody = {
  type: 'object',
  properties: { to: { anyOf: [{ type: 'string', enum: ['previous', 'lkg'] }, { type: 'integer', minimum: 1 }] } },
  required: ['to'],
  additionalProperties: false,
} as const;

export async function activeRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  app.get<{ Params: { scope: string } }>(
    '/v1/scopes/:scope/active',
    { config: { permission: 'config:read' } },
    async (request, reply) => {
      const pointer = deps.active.getActive(request.params.scope);
      reply.header('etag', activeEtag(pointer));
      return activeView(pointer);
    },
  );

  app.put<{ Params: { scope: string }; Body: { seq: number; dryRun?: boolean } }>(
    '/v1/scopes/:scope/active',
    { config: { permission: 'config:activate', mutating: true }, schema: { body: activateBody } },
    async (request, reply) => {
      const expected = ifMatchVersion(request.headers['if-match']);
      if (expected === null) throw new CpError('precondition_required', 'send If-Match with the active ETag ("0" before the first activation)');
      const { scope } = request.params;
      const dryRun = request.body.dryRun === true;
      const result = deps.active.activate(scope, request.body.seq, expected, actorOf(request), { dryRun });
      if (result.moved) deps.metrics.activeMoves.inc({ scope, kind: 'activate' });
      reply.header('etag', activeEtag(result.active));
      return moveBody(result, dryRun);
    },
  );

  app.post<{ Params: { scope: string }; Body: { to: 'previous' | 'lkg' | number } }>(
    '/v1/scopes/:scope/rollback',
    { config: { permission: 'config:rollback', mutating: true }, schema: { body: rollbackBody } },
    async (request, reply) => {
      const { scope } = request.params;
      const { to } = request.body;
      if (to === 'lkg') throw new CpError('nothing_to_rollback', 'no last-known-good generation is recorded yet');
      const target: RollbackTarget = to;
      const result = deps.active.rollback(scope, target, ifMatchVersion(request.headers['if-match']), actorOf(request));
      deps.metrics.activeMoves.inc({ scope, kind: 'rollback' });
      reply.header('etag', activeEtag(result.active));
      return moveBody(result, false);
    },
  );
}

function moveBody(result: MoveResult, dryRun: boolean) {
  return {
    active: activeView(result.active),
    target: result.target,
    moved: result.moved,
    changes: [],
    ...(dryRun ? { dryRun: true } : {}),
  };
}
