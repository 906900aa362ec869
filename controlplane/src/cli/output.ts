/**
 * Output of spookyctl. Human mode: short lines on stdout (what happened, seq, digest, next
 * step), errors on stderr. --json mode: exactly one JSON document on stdout for every command,
 * success or failure, so scripts can always parse it; errors look like
 * {"error": {code, message, status, issues}, "exitCode": n}.
 */
import { type CliError, formatIssue } from './cli-error.ts';
import type { ExitCode } from './exit-codes.ts';

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

/** What a command produced: its exit code, the machine-readable data and the human lines. */
export interface CommandResult {
  readonly exitCode: ExitCode;
  readonly data: unknown;
  readonly lines: readonly string[];
}

export function render(result: CommandResult, json: boolean, io: Io): void {
  if (json) {
    io.out(`${JSON.stringify(result.data, null, 2)}\n`);
    return;
  }
  if (result.lines.length > 0) io.out(`${result.lines.join('\n')}\n`);
}

/** One next step for the errors an operator most often meets. */
const HINTS: Readonly<Record<string, string>> = {
  unauthorized: 'set SPOOKY_TOKEN (or --token) to a valid token',
  forbidden: 'the token lacks the permission or the scope for this call',
  precondition_failed: 'the active pointer moved since you looked: check spookyctl status, then retry',
  generation_failed: 'a node rejected this generation before; add --force to activate it anyway',
  nothing_to_rollback: 'see spookyctl history for the generations you can name with --to SEQ',
  idempotency_key_reused: 'use a new --idempotency-key for a different request',
  network: 'check --server / SPOOKY_SERVER and that the control plane is running',
  tls_hostname: 'the --server host must be one of the names (SANs) of the control plane certificate',
  tls_not_tls: 'use an http:// --server for a control plane without --http-tls-cert',
};

export function renderError(error: CliError, json: boolean, io: Io): void {
  if (json) {
    const body = { error: { code: error.code, message: error.message, status: error.status, issues: error.issues }, exitCode: error.exitCode };
    io.out(`${JSON.stringify(body, null, 2)}\n`);
    return;
  }
  const lines = [`error: ${error.message}`, ...error.issues.map((i) => `  ${formatIssue(i)}`)];
  const hint = HINTS[error.code];
  if (hint) lines.push(`hint: ${hint}`);
  io.err(`${lines.join('\n')}\n`);
}

/** The first 19 characters of a digest (`sha256:` + 12 hex), enough to tell generations apart. */
export function shortDigest(digest: unknown): string {
  return typeof digest === 'string' ? digest.slice(0, 19) : '-';
}

/** A shell-safe rendering of a reason for "next step" hints. */
export function quoted(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}
