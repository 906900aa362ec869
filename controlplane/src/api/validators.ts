/**
 * Schema validation per part of a request. Bodies are JSON and carry their own types, so their
 * validator never coerces: `"dryRun": null`, `0` or `"true"` is a 400 naming `/dryRun`, never
 * a boolean (ajv's coercion would turn null and 0 into false and run a real activation).
 * Query strings, path parameters and headers arrive as text, so theirs coerce a scalar to the
 * declared type (`?limit=10` → 10) and refuse what does not convert (`?limit=abc` → 400).
 * Unknown keys are errors, never silently dropped (fastify's default removes them).
 */
import { Ajv, type Options } from 'ajv';
import type { FastifySchemaCompiler } from 'fastify';

const common: Options = { removeAdditional: false, allErrors: true, useDefaults: false, strict: true };

export function strictValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const body = new Ajv({ ...common, coerceTypes: false });
  const text = new Ajv({ ...common, coerceTypes: 'array' });
  return ({ schema, httpPart }) => (httpPart === 'body' ? body : text).compile(schema as object);
}
