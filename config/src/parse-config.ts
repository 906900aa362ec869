/**
 * parseConfig: the one gate every config passes, in the control plane before storing and in the
 * data plane before compiling. A config this accepts must compile on a data plane, except for
 * facts only the data plane's machine can know (certificate files present, ports free).
 *
 * Steps: size budget → text decode (JSON or YAML) → strict schema (unknown keys are errors at
 * every level) → normalization (defaults, one listener list, canonical addresses) → semantic
 * checks. Never throws for bad input; returns every issue found with a JSON Pointer.
 */
import { Value } from '@sinclair/typebox/value';
import { parseDocument } from 'yaml';
import { normalizeConfig } from './normalize-config.ts';
import { ConfigInputSchema, SCHEMA_VERSION } from './schema.ts';
import { schemaIssues } from './schema-issues.ts';
import { semanticIssues } from './semantic-checks.ts';
import type { ConfigIssue, ParseResult } from './types.ts';

/** Largest accepted config document, in bytes of its text. */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

export type ConfigFormat = 'json' | 'yaml';

/** Parse a config document given as text. `format` defaults to sniffing: `{` first → JSON. */
export function parseConfigText(text: string | Uint8Array, format?: ConfigFormat): ParseResult {
  const size = typeof text === 'string' ? Buffer.byteLength(text) : text.byteLength;
  if (size > MAX_CONFIG_BYTES) {
    return fail('', 'config.too_large', `config is ${size} bytes; the limit is ${MAX_CONFIG_BYTES}`);
  }
  const source = typeof text === 'string' ? text : Buffer.from(text).toString('utf8');
  const decoded = decodeText(source, format ?? sniffFormat(source));
  if (!decoded.ok) return decoded;
  return parseConfig(decoded.value);
}

/** Parse an already-decoded document (e.g. a JSON request body). */
export function parseConfig(input: unknown): ParseResult {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return fail('', 'schema.type', 'config must be an object');
  }
  const version = (input as { version?: unknown }).version;
  if (typeof version === 'number' && Number.isInteger(version) && version > SCHEMA_VERSION) {
    return fail('/version', 'version.unsupported', `config version ${version} is newer than this build supports (${SCHEMA_VERSION})`);
  }
  if (!Value.Check(ConfigInputSchema, input)) {
    return { ok: false, issues: schemaIssues(ConfigInputSchema, input) };
  }
  const config = normalizeConfig(input);
  const issues = semanticIssues(input, config);
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, config };
}

function sniffFormat(text: string): ConfigFormat {
  return text.trimStart().startsWith('{') ? 'json' : 'yaml';
}

type Decoded = { ok: true; value: unknown } | { ok: false; issues: ConfigIssue[] };

function decodeText(text: string, format: ConfigFormat): Decoded {
  if (format === 'json') {
    try {
      return { ok: true, value: JSON.parse(text) };
    } catch (err) {
      return fail('', 'config.syntax', `invalid JSON: ${(err as Error).message}`);
    }
  }
  // uniqueKeys: a repeated key is an error, not "last one wins". maxAliasCount bounds
  // alias expansion (billion-laughs documents).
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, strict: true });
  const first = doc.errors[0];
  if (first) {
    const where = first.linePos?.[0] ? ` at line ${first.linePos[0].line}, column ${first.linePos[0].col}` : '';
    return fail('', 'config.syntax', `invalid YAML${where}: ${first.message.split('\n')[0]}`);
  }
  try {
    return { ok: true, value: doc.toJS({ maxAliasCount: 100 }) };
  } catch (err) {
    return fail('', 'config.syntax', `invalid YAML: ${(err as Error).message}`);
  }
}

function fail(pointer: string, code: string, message: string): { ok: false; issues: ConfigIssue[] } {
  return { ok: false, issues: [{ pointer, code, message }] };
}
