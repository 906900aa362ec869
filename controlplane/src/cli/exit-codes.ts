/**
 * spookyctl's exit codes (CONTROL-PLANE.md, "CLI"), and the one pure table from an HTTP answer
 * to an exit code. Scripts branch on these numbers: never renumber them.
 */
export const EXIT = {
  /** Done; for plan without --detailed-exitcode also "changes pending". */
  ok: 0,
  /** Network failure, server 5xx, bad usage, anything unexpected. */
  error: 1,
  /** plan --detailed-exitcode: the file differs from the active generation. */
  changes: 2,
  /** The config is invalid (400/413/422 with issues). */
  invalid: 3,
  /**
   * Conflict or precondition failed (409/412/428): someone else moved the pointer, or a guard
   * refused; also a replayed rollback whose pointer moved since (rollback_replay_stale).
   */
  conflict: 4,
  /** A node NACKed the target, or the active pointer moved away from it while waiting. */
  rejected: 5,
  /** --wait ran out of time before the fleet converged, or with fewer than --min-nodes / without a --require-nodes node serving the target. */
  timeout: 6,
  /** The token is missing, invalid (401) or lacks a permission or scope (403). */
  forbidden: 7,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * Problem codes whose meaning is not their HTTP status: an Idempotency-Key reused for another
 * request is a conflict (422 on the wire), a config the connected nodes' schema range cannot run
 * is an invalid config for this fleet (422, issues or not), a frozen scope (423) refuses
 * activation like a guard (conflict), an invalid rollout policy is an invalid document.
 */
const EXIT_BY_PROBLEM_CODE: Readonly<Record<string, ExitCode>> = {
  idempotency_key_reused: EXIT.conflict,
  idempotency_in_progress: EXIT.conflict,
  schema_unsupported: EXIT.invalid,
  config_invalid: EXIT.invalid,
  config_unparseable: EXIT.invalid,
  payload_too_large: EXIT.invalid,
  scope_frozen: EXIT.conflict,
  rollout_policy_invalid: EXIT.invalid,
};

/**
 * The exit code for a non-2xx HTTP answer: the problem `code` when it has its own meaning,
 * else the status. `hasIssues` says whether the problem carried config issues: a 400/422 with
 * issues is an invalid config (3); a 400 without is bad usage (1, e.g. a malformed request).
 */
export function exitCodeForStatus(status: number, hasIssues: boolean, problemCode: string | null = null): ExitCode {
  const byCode = problemCode === null ? undefined : EXIT_BY_PROBLEM_CODE[problemCode];
  if (byCode !== undefined) return byCode;
  if (status === 401 || status === 403) return EXIT.forbidden;
  if (status === 409 || status === 412 || status === 428) return EXIT.conflict;
  if (status === 413) return EXIT.invalid;
  if (status === 400 || status === 422) return hasIssues ? EXIT.invalid : EXIT.error;
  return EXIT.error;
}
