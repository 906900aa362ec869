/**
 * Diffs between generations of a scope (read-only, config:read):
 *   GET  /v1/scopes/:scope/diff?from=<seq|active>&to=<seq|active>   → {from, to, changes, truncated, totalChanges}
 *   POST /v1/scopes/:scope/diff/behaviour {from, to, requests[≤1000]} → {from, to, results}
 * `from` defaults to `active`. A side is `{seq, digest}`, or null when it names `active` and
 * nothing is active yet (then it counts as an empty config: every entity is added, no request
 * routes). Unknown seq → 404 generation_not_found.
 */
import { MAX_BEHAVIOUR_REQUESTS, type ProbeRequest } from '@spooky/config';
import type { FastifyInstance } from 'fastify';
import type { GenerationSelector } from '../../generations/generation-diff.ts';
import type { ApiDeps } from '../api-deps.ts';
import { capChanges } from '../response-bounds.ts';

const selector = { anyOf: [{ type: 'string', enum: ['active'] }, { type: 'integer', minimum: 1 }] } as const;

const diffQuery = {
  type: 'object',
  properties: { from: selector, to: selector },
  required: ['to'],
  additionalProperties: false,
} as const;

const probeRequest = {
  type: 'object',
  properties: {
    method: { type: 'string', minLength: 1, maxLength: 32 },
    host: { type: 'string', maxLength: 1024 },
    path: { type: 'string', maxLength: 8192 },
    headers: { type: 'object', additionalProperties: { type: 'string', maxLength: 8192 }, maxProperties: 100 },
  },
  required: ['method', 'host', 'path'],
  additionalProperties: false,
} as const;

const behaviourBody = {
  type: 'object',
  properties: {
    from: selector,
    to: selector,
    requests: { type: 'array', items: probeRequest, maxItems: MAX_BEHAVIOUR_REQUESTS },
  },
  required: ['to', 'requests'],
  additionalProperties: false,
} as const;

export async function diffRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  app.get<{ Params: { scope: string }; Querystring: { from?: GenerationSelector; to: GenerationSelector } }>(
    '/v1/scopes/:scope/diff',
    { config: { permission: 'config:read' }, schema: { querystring: diffQuery } },
    async (request) => {
      const { from = 'active', to } = request.query;
      const { changes, ...sides } = deps.generations.diff(request.params.scope, from, to);
      return { ...sides, ...capChanges(changes) };
    },
  );

  app.post<{
    Params: { scope: string };
    Body: { from?: GenerationSelector; to: GenerationSelector; requests: ProbeRequest[] };
  }>(
    '/v1/scopes/:scope/diff/behaviour',
    { config: { permission: 'config:read' }, schema: { body: behaviourBody } },
    async (request) => {
      const { from = 'active', to, requests } = request.body;
      return deps.generations.behaviourDiff(request.params.scope, from, to, requests);
    },
  );
}
