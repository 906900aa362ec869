/**
 * POST /v1/scopes/:scope/validate and POST /v1/scopes/:scope/generations. Config bodies are
 * taken as raw text (JSON, or YAML with Content-Type application/yaml) and handed to
 * parseConfigText, so syntax errors come back as issues with the config's own wording.
 * `validate` returns at most MAX_RESPONSE_CHANGES changes (`truncated`, `totalChanges`).
 * Registered in its own encapsulated context: the raw-text parsers apply only here.
 */
import type { ConfigFormat } from '@spooky/config';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CpError } from '../../errors.ts';
import type { ApiDeps } from '../api-deps.ts';
import { actorOf } from '../guard.ts';
import { capChanges, capIssues } from '../response-bounds.ts';
import { generationLocation, generationView } from '../views.ts';

const JSON_TYPES = ['application/json'];
const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml'];

export async function configRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser([...JSON_TYPES, ...YAML_TYPES], { parseAs: 'string' }, (_req, body, done) => {
    done(null, body);
  });

  app.post<{ Params: { scope: string } }>(
    '/v1/scopes/:scope/validate',
    { config: { permission: 'config:read' } },
    async (request) => {
      const { diff, issues, ...result } = deps.generations.validate(request.params.scope, submission(request));
      const capped = diff === null ? null : capChanges(diff);
      return {
        ...result,
        ...capIssues(issues),
        diff: capped?.changes ?? null,
        truncated: capped?.truncated ?? false,
        totalChanges: capped?.totalChanges ?? null,
      };
    },
  );

  app.post<{ Params: { scope: string } }>(
    '/v1/scopes/:scope/generations',
    { config: { permission: 'config:write', mutating: true } },
    async (request, reply) => {
      const result = deps.generations.create(request.params.scope, submission(request), actorOf(request));
      deps.metrics.generationsCreated.inc({ scope: request.params.scope, deduplicated: String(result.deduplicated) });
      reply
        .code(result.deduplicated ? 200 : 201)
        .header('location', generationLocation(result.generation))
        .header('etag', `"${result.generation.digest}"`);
      return { ...generationView(result.generation), deduplicated: result.deduplicated };
    },
  );
}

function submission(request: FastifyRequest): { text: string; format: ConfigFormat } {
  if (typeof request.body !== 'string') throw new CpError('config_unparseable', 'request body is empty');
  const mediaType = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return { text: request.body, format: YAML_TYPES.includes(mediaType) ? 'yaml' : 'json' };
}
