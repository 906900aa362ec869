/**
 * parseConfig: the one gate every config passes, in the control plane before storing and in the
 * data plane before compiling. A config this accepts must compile on a data plane, except for
 * facts only the data plane's machine can know (certificate files present, ports free).
 *
 * Steps: size budget → nesting depth of the text (one linear scan, before any parser) → text
 * decode (JSON, or YAML with its alias expansion measured on the node tree before anything is
 * materialised) → value shape (depth, string and key lengths) → strict schema (unknown keys
 * are errors at every level) → count budgets (upstreams, backends, matchers) → normalization
 * (defaults, one listener list, canonical addresses) → canonical size budget → semantic checks.
 * Never throws for bad input; returns the issues found (at most MAX_ISSUES), each with a JSON
 * Pointer ('' is the document root; a syntax error points at the nearest node the parser
 * understood and names its line, column and key). Every cap is in limits.ts. Cost: linear in the text;
 * a refused document costs no more than an accepted one of the same size.
 */
import { Value } from '@sinclair/typebox/value';
import { parseDocument } from 'yaml';
import { budgetIssues } from './budget-checks.ts';
import { canonicalJson } from './canonical.ts';
import { jsonDuplicateKey } from './json-duplicate-key.ts';
import { jsonErrorLocation } from './json-error-location.ts';
import { MAX_CONFIG_BYTES, MAX_ISSUES, MAX_NESTING_DEPTH, MAX_YAML_BYTES } from './limits.ts';
import { normalizeConfig } from './normalize-config.ts';
import { ConfigInputSchema, SCHEMA_VERSION } from './schema.ts';
import { schemaIssues } from './schema-issues.ts';
import { semanticIssues } from './semantic-checks.ts';
import { jsonTooDeep, yamlTooDeep } from './text-depth.ts';
import type { ConfigIssue, ParseResult } from './types.ts';
import { valueShapeIssue } from './value-shape.ts';
import { yamlDocumentIssue } from './yaml-budget.ts';
import { yamlErrorLocation } from './yaml-error-location.ts';

export { MAX_CONFIG_BYTES } from './limits.ts';

export type ConfigFormat = 'json' | 'yaml';

/** Parse a config document given as text. `format` defaults to sniffing: `{` first → JSON. */
export function parseConfigText(text: string | Uint8Array, format?: ConfigFormat): ParseResult {
  const size = typeof text === 'string' ? Buffer.byteLength(text) : text.byteLength;
  if (size > MAX_CONFIG_BYTES) {
    return fail('', 'config.too_large', `config is ${size} bytes; the limit is ${MAX_CONFIG_BYTES}`);
  }
  const source = typeof text === 'string' ? text : Buffer.from(text).toString('utf8');
  const fmt = format ?? sniffFormat(source);
  const deep = fmt === 'json' ? jsonTooDeep(source, MAX_NESTING_DEPTH) : yamlTooDeep(source, MAX_NESTING_DEPTH);
  if (deep) {
    const where = `line ${deep.line}, column ${deep.column}`;
    return fail('', 'config.too_deep', `${fmt === 'json' ? 'JSON' : 'YAML'} nesting is deeper than ${MAX_NESTING_DEPTH} levels at ${where}`);
  }
  if (fmt === 'yaml' && size > MAX_YAML_BYTES) {
    return fail('', 'config.too_large', `YAML config is ${size} bytes; YAML is limited to ${MAX_YAML_BYTES} bytes (submit larger configs as JSON, limit ${MAX_CONFIG_BYTES})`);
  }
  const decoded = decodeText(source, fmt);
  if (!decoded.ok) return decoded;
  return parseConfig(decoded.value);
}

/** Parse an already-decoded document (e.g. a JSON request body). */
export function parseConfig(input: unknown): ParseResult {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return fail('', 'schema.type', 'config must be an object');
  }
  const shape = valueShapeIssue(input);
  if (shape) return { ok: false, issues: [shape] };
  const version = (input as { version?: unknown }).version;
  if (typeof version === 'number' && Number.isInteger(version) && version > SCHEMA_VERSION) {
    return fail('/version', 'version.unsupported', `config version ${version} is newer than this build supports (${SCHEMA_VERSION})`);
  }
  if (!Value.Check(ConfigInputSchema, input)) {
    return { ok: false, issues: schemaIssues(ConfigInputSchema, input) };
  }
  const budget = budgetIssues(input);
  if (budget.length > 0) return { ok: false, issues: budget };
  const config = normalizeConfig(input);
  const canonicalBytes = Buffer.byteLength(canonicalJson(config));
  if (canonicalBytes > MAX_CONFIG_BYTES) {
    return fail('', 'config.too_large', `the canonical form of this config is ${canonicalBytes} bytes; the limit is ${MAX_CONFIG_BYTES}`);
  }
  const issues = semanticIssues(input, config);
  if (issues.length > 0) return { ok: false, issues: issues.slice(0, MAX_ISSUES) };
  return { ok: true, config };
}

function sniffFormat(text: string): ConfigFormat {
  return text.trimStart().startsWith('{') ? 'json' : 'yaml';
}

type Decoded = { ok: true; value: unknown } | { ok: false; issues: ConfigIssue[] };

function decodeText(text: string, format: ConfigFormat): Decoded {
  if (format === 'json') {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      // V8 quotes a slice of the input; drop it (it may hold a secret) and bound the rest.
      const reason = (err as Error).message.replace(/, ".*" is not valid JSON$/s, '').slice(0, 200);
      // V8 says `at position N (line L column C)` when it knows; else the error is at the end.
      const position = /at position (\d+)/.exec(reason);
      const at = jsonErrorLocation(text, position ? Number(position[1]) : text.length);
      const key = at.key === null ? '' : ` (key ${JSON.stringify(at.key)})`;
      return fail(at.pointer, 'config.syntax', `invalid JSON${key}: ${reason}`);
    }
    // JSON.parse keeps the last of two equal keys; like YAML input, a repeated key is refused.
    const duplicate = jsonDuplicateKey(text);
    if (duplicate) return fail(duplicate.pointer, 'config.duplicate_key', 'this key appears twice in the same object; JSON would silently keep the last value');
    return { ok: true, value };
  }
  // uniqueKeys: a repeated key is an error, not "last one wins".
  let doc: ReturnType<typeof parseDocument>;
  try {
    doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, strict: true });
  } catch (err) {
    // The depth pre-scan (text-depth.ts) is an estimate; a nesting it missed that still
    // exhausts the composer's stack is refused here, never thrown at the caller.
    if (err instanceof RangeError) return fail('', 'config.too_deep', `YAML nesting is too deep to compose (limit ${MAX_NESTING_DEPTH} levels)`);
    throw err;
  }
  const first = doc.errors[0];
  if (first) {
    // Line, column and the nearest understood key, so the author need not bisect the file.
    const at = yamlErrorLocation(text, doc, first.pos[0]);
    const key = at.key === null ? '' : ` (key ${JSON.stringify(at.key)})`;
    const where = `at line ${at.line}, column ${at.column}${key}`;
    return fail(at.pointer, 'config.syntax', `invalid YAML ${where}: ${first.message.split('\n')[0]?.slice(0, 200)}`);
  }
  // Aliases, tags and expanded size are bounded here, so toJS needs no alias limit of its own
  // (its maxAliasCount would refuse a few hundred uses of one small anchor).
  const budget = yamlDocumentIssue(doc);
  if (budget) return { ok: false, issues: [budget] };
  try {
    return { ok: true, value: doc.toJS({ maxAliasCount: -1 }) };
  } catch (err) {
    if (err instanceof RangeError) return fail('', 'config.too_deep', `YAML nesting is too deep to convert (limit ${MAX_NESTING_DEPTH} levels)`);
    return fail('', 'config.syntax', `invalid YAML: ${(err as Error).message.slice(0, 200)}`);
  }
}

function fail(pointer: string, code: string, message: string): { ok: false; issues: ConfigIssue[] } {
  return { ok: false, issues: [{ pointer, code, message }] };
}
