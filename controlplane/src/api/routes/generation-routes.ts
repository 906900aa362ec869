/** GET /v1/scopes/:scope/generations (history) and /generations/:seq (metadata + document). */
import { redactSecrets } from '@spooky/config';
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../api-deps.ts';
import { generationView } from '../views.ts';

const seqParam = {
  type: 'object',
  properties: { scope: { type: 'string' }, seq: { type: 'integer', minimum: 1 } },
  required: ['scope', 'seq'],
} as const;

const listQuery = {
  type: 'object',
  properties: { limit: { type: 'integer', minimum: 1, maximum: 100 }, before: { type: 'integer', minimum: 1 } },
  additionalProperties: false,
} as const;

export async function generationRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  app.get<{ Params: { scope: string }; Querystring: { limit?: number; before?: number } }>(
    '/v1/scopes/:scope/generations',
    { config: { permission: 'config:read' }, schema: { querystring: listQuery } },
    async (request) => {
      const page = deps.generations.list(request.params.scope, request.query.limit, request.query.before ?? null);
      return { items: page.items.map(generationView), next: page.next };
    },
  );

  app.get<{ Params: { scope: string; seq: number } }>(
    '/v1/scopes/:scope/generations/:seq',
    { config: { permission: 'config:read' }, schema: { params: seqParam } },
    async (request, reply) => {
      const record = deps.generations.get(request.params.scope, request.params.seq);
      reply.header('etag', `"${record.digest}"`);
      // Private-key paths (tls.key) and anything secret-looking are redacted, as in diffs; the
      // etag stays the digest of the stored, unredacted canonical document.
      return { ...generationView(record), document: redactSecrets(JSON.parse(record.payload)) };
    },
  );
}
