/**
 * Turns TypeBox validation errors into ConfigIssues with stable codes. Messages name the field
 * and the rule, never the offending value (it may be a secret).
 */
import type { TSchema } from '@sinclair/typebox';
import { Value, ValueErrorType } from '@sinclair/typebox/value';
import { MAX_ISSUES } from './limits.ts';
import { NAME_PATTERN } from './schema.ts';
import type { ConfigIssue } from './types.ts';

export function schemaIssues(schema: TSchema, input: unknown): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  for (const error of Value.Errors(schema, input)) {
    const issue = toIssue(error.type, error.path, error.schema, error.message);
    if (!issue) continue;
    const key = `${issue.pointer}\u0000${issue.code}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push(issue);
    if (issues.length >= MAX_ISSUES) break;
  }
  // A missing key is also reported as a type mismatch at the same pointer; keep "required".
  const required = new Set(issues.filter((i) => i.code === 'schema.required').map((i) => i.pointer));
  const kept = issues.filter((i) => i.code === 'schema.required' || !required.has(i.pointer));
  // Never "invalid" without saying where: a rule with no mapping above still gets an issue.
  return kept.length > 0 ? kept : [{ pointer: '', code: 'schema.invalid', message: 'config does not match the schema' }];
}

function toIssue(type: ValueErrorType, path: string, schema: TSchema, message: string): ConfigIssue | null {
  const pointer = path;
  const field = pointer === '' ? 'config' : pointer;
  switch (type) {
    case ValueErrorType.ObjectAdditionalProperties:
      if (/^\/upstream\/[^/]+$/.test(pointer)) {
        return { pointer, code: 'upstream.name.invalid', message: `upstream name ${lastSegment(pointer)} must match ${NAME_PATTERN}` };
      }
      return { pointer, code: 'schema.unknown_key', message: `unknown key ${lastSegment(pointer)}` };
    case ValueErrorType.ObjectRequiredProperty:
      return { pointer, code: 'schema.required', message: `${field} is required` };
    case ValueErrorType.Union:
      return { pointer, code: 'schema.enum', message: `${field} must be one of ${describeUnion(schema)}` };
    case ValueErrorType.Literal:
      // A literal outside a union (inside one, the Union issue covers it).
      return { pointer, code: 'schema.enum', message: `${field} must be ${JSON.stringify((schema as { const?: unknown }).const)}` };
    case ValueErrorType.String:
    case ValueErrorType.Number:
    case ValueErrorType.Integer:
    case ValueErrorType.Boolean:
    case ValueErrorType.Object:
    case ValueErrorType.Array:
      return { pointer, code: 'schema.type', message: `${field}: ${message}` };
    case ValueErrorType.StringPattern:
    case ValueErrorType.StringMinLength:
    case ValueErrorType.StringMaxLength:
      return { pointer, code: 'schema.format', message: `${field}: ${patternHint(schema) ?? message}` };
    case ValueErrorType.NumberMinimum:
    case ValueErrorType.NumberMaximum:
    case ValueErrorType.IntegerMinimum:
    case ValueErrorType.IntegerMaximum:
    case ValueErrorType.ArrayMinItems:
    case ValueErrorType.ArrayMaxItems:
      return { pointer, code: 'schema.range', message: `${field}: ${message}` };
    default:
      return { pointer, code: 'schema.invalid', message: `${field}: ${message}` };
  }
}

function lastSegment(pointer: string): string {
  const seg = pointer.slice(pointer.lastIndexOf('/') + 1);
  return `'${seg.replaceAll('~1', '/').replaceAll('~0', '~')}'`;
}

function describeUnion(schema: TSchema): string {
  const members = (schema as { anyOf?: TSchema[] }).anyOf ?? [];
  const literals = members.map((m) => (m as { const?: unknown }).const).filter((c) => c !== undefined);
  return literals.length > 0 ? literals.map((l) => JSON.stringify(l)).join(', ') : 'the allowed shapes';
}

function patternHint(schema: TSchema): string | null {
  const pattern = (schema as { pattern?: string }).pattern;
  if (pattern === '^/') return 'must start with /';
  if (pattern) return `must match ${pattern}`;
  const min = (schema as { minLength?: number }).minLength;
  if (min === 1) return 'must not be empty';
  return null;
}
