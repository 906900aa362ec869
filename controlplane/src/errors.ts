/**
 * The control plane's one table of error codes. Use cases and adapters throw `CpError` with a
 * stable `code`; the REST error mapper (api/problem.ts) turns it into RFC 9457 problem+json
 * using the status and title from this table. Messages never contain tokens or secrets.
 */
import type { ConfigIssue } from '@spooky/config';

export const ERROR_TABLE = {
  unauthorized: { status: 401, title: 'Authentication required' },
  forbidden: { status: 403, title: 'Forbidden' },
  reason_required: { status: 400, title: 'Spooky-Change-Reason header required' },
  invalid_scope: { status: 400, title: 'Invalid scope name' },
  invalid_request: { status: 400, title: 'Invalid request' },
  config_unparseable: { status: 400, title: 'Config could not be parsed' },
  config_invalid: { status: 422, title: 'Config is invalid' },
  payload_too_large: { status: 413, title: 'Request body too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  not_found: { status: 404, title: 'Not found' },
  generation_not_found: { status: 404, title: 'Generation not found' },
  node_not_found: { status: 404, title: 'Node not found' },
  precondition_required: { status: 428, title: 'If-Match header required' },
  precondition_failed: { status: 412, title: 'Active pointer changed (stale If-Match)' },
  nothing_to_rollback: { status: 409, title: 'Nothing to roll back to' },
  generation_failed: { status: 409, title: 'Generation was rejected by a node (send force: true to activate anyway)' },
  schema_unsupported: { status: 422, title: 'Connected nodes cannot run this config schema version' },
  rollout_policy_invalid: { status: 422, title: 'Rollout policy is invalid' },
  rollout_policy_changed: { status: 412, title: 'Rollout policy changed (stale If-Match)' },
  idempotency_key_reused: { status: 422, title: 'Idempotency-Key was used for a different request' },
  idempotency_in_progress: { status: 409, title: 'A request with this Idempotency-Key is still in progress' },
  cursor_expired: { status: 410, title: 'Event cursor is older than the retained events' },
  token_exists: { status: 409, title: 'A token with this name exists' },
  too_many_requests: { status: 429, title: 'Too many failed authentications' },
  not_ready: { status: 503, title: 'Not ready' },
  too_many_subscribers: { status: 503, title: 'Too many event streams' },
  store_unavailable: { status: 503, title: 'Store unavailable (writes refused)' },
  internal: { status: 500, title: 'Internal error' },
  settings_invalid: { status: 500, title: 'Invalid settings' },
  tokens_invalid: { status: 500, title: 'Invalid tokens file' },
} as const satisfies Record<string, { status: number; title: string }>;

export type CpErrorCode = keyof typeof ERROR_TABLE;

export class CpError extends Error {
  readonly code: CpErrorCode;
  readonly status: number;
  readonly issues: readonly ConfigIssue[] | undefined;
  /** Extra problem members for scripts (e.g. `nodes` of schema_unsupported); never secrets. */
  readonly extensions: Readonly<Record<string, unknown>> | undefined;
  /** Sent as the Retry-After header (seconds) of a 429 or 503. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: CpErrorCode,
    detail: string,
    options?: {
      issues?: readonly ConfigIssue[];
      extensions?: Readonly<Record<string, unknown>>;
      cause?: unknown;
      retryAfterSeconds?: number;
    },
  ) {
    super(detail, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CpError';
    this.code = code;
    this.status = ERROR_TABLE[code].status;
    this.issues = options?.issues;
    this.extensions = options?.extensions;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
}

export function isCpError(err: unknown): err is CpError {
  return err instanceof CpError;
}

/** True for the errors (or causes) by which SQLite reports a damaged database file. */
export function isCorruptionError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB')) return true;
  }
  return false;
}
