/**
 * The one error type of spookyctl: what failed (a stable `code`), the exit code it maps to and,
 * for config problems, the issues to print. Messages never contain the token.
 */
import type { ExitCode } from './exit-codes.ts';

export interface CliIssue {
  readonly pointer: string;
  readonly code: string;
  readonly message: string;
}

export class CliError extends Error {
  readonly code: string;
  readonly exitCode: ExitCode;
  readonly issues: readonly CliIssue[];
  /** HTTP status of the server's answer, when the error came from one. */
  readonly status: number | null;

  constructor(code: string, message: string, exitCode: ExitCode, options: { issues?: readonly CliIssue[]; status?: number } = {}) {
    super(message);
    this.name = 'CliError';
    this.code = code;
    this.exitCode = exitCode;
    this.issues = options.issues ?? [];
    this.status = options.status ?? null;
  }
}

/** `pointer: message (code)`, the one way an issue is printed. */
export function formatIssue(issue: CliIssue): string {
  return `${issue.pointer === '' ? '/' : issue.pointer}: ${issue.message} (${issue.code})`;
}
