/**
 * tokens create / revoke / list: edit or read a control plane tokens file locally (no server
 * call; run them where the file lives). The token is printed exactly once, by create; the file
 * keeps only its hash, and list shows neither (name, permissions, scopes, expiry, creation).
 * Errors never contain a token.
 */
import { existsSync } from 'node:fs';
import { PERMISSIONS, type Permission } from '../../auth/permissions.ts';
import { createToken, listTokens, revokeToken, type TokenInfo } from '../../auth/token-file.ts';
import { CliError } from '../cli-error.ts';
import { EXIT } from '../exit-codes.ts';
import type { CommandResult } from '../output.ts';

function permissionsOf(list: readonly string[]): Permission[] {
  const unknown = list.filter((p) => !(PERMISSIONS as readonly string[]).includes(p));
  if (unknown.length > 0 || list.length === 0) {
    throw new CliError('usage', `--permissions must list some of: ${PERMISSIONS.join(', ')}${unknown.length > 0 ? ` (unknown: ${unknown.join(', ')})` : ''}`, EXIT.error);
  }
  return list as Permission[];
}

function fileError(err: unknown, file: string): CliError {
  if (err instanceof CliError) return err;
  const e = err as { code?: unknown; message?: unknown };
  const message = typeof e.message === 'string' ? e.message : 'failed';
  return new CliError(typeof e.code === 'string' ? e.code : 'tokens_file', `tokens file ${file}: ${message}`, EXIT.error);
}

export async function tokensCreateCommand(cmd: {
  name: string;
  permissions: string[];
  scopes: string[];
  expiresAt: string | null;
  file: string;
}): Promise<CommandResult> {
  const permissions = permissionsOf(cmd.permissions);
  if (cmd.scopes.length === 0) throw new CliError('usage', '--scopes must list scope names or "*"', EXIT.error);
  let token: string;
  try {
    token = await createToken(cmd.file, { name: cmd.name, permissions, scopes: cmd.scopes, expiresAt: cmd.expiresAt });
  } catch (err) {
    throw fileError(err, cmd.file);
  }
  const summary = { name: cmd.name, permissions, scopes: cmd.scopes, expiresAt: cmd.expiresAt, file: cmd.file };
  return {
    exitCode: EXIT.ok,
    data: { ...summary, token },
    lines: [
      `created token "${cmd.name}" (${permissions.join(', ')}; scopes ${cmd.scopes.join(', ')}${cmd.expiresAt ? `; expires ${cmd.expiresAt}` : ''}) in ${cmd.file}`,
      'store it now (e.g. as the CI secret SPOOKY_TOKEN); it is not shown again:',
      token,
    ],
  };
}

export async function tokensRevokeCommand(cmd: { name: string; file: string }): Promise<CommandResult> {
  let removed: unknown;
  try {
    removed = await revokeToken(cmd.file, cmd.name);
  } catch (err) {
    throw fileError(err, cmd.file);
  }
  if (removed === false) throw new CliError('token_not_found', `no token named "${cmd.name}" in ${cmd.file}`, EXIT.error);
  return { exitCode: EXIT.ok, data: { name: cmd.name, file: cmd.file, revoked: true }, lines: [`revoked token "${cmd.name}" in ${cmd.file}`] };
}

/** One listed token: what listTokens gives plus whether it has expired now. */
export interface ListedToken extends TokenInfo {
  readonly expired: boolean;
}

export async function tokensListCommand(cmd: { file: string }, now: number = Date.now()): Promise<CommandResult> {
  // A missing file is an error here (a typo must not look like "no tokens"); create makes it.
  if (!existsSync(cmd.file)) throw new CliError('tokens_file', `tokens file ${cmd.file}: not found`, EXIT.error);
  let tokens: ListedToken[];
  try {
    tokens = listTokens(cmd.file).map((t) => ({ ...t, expired: t.expiresAt !== null && Date.parse(t.expiresAt) <= now }));
  } catch (err) {
    throw fileError(err, cmd.file);
  }
  const rows = tokens.map((t) => [
    t.name,
    t.permissions.join(','),
    t.scopes.join(','),
    t.expiresAt === null ? 'never' : `${t.expiresAt}${t.expired ? ' (expired)' : ''}`,
    t.createdAt ?? '-',
  ]);
  return {
    exitCode: EXIT.ok,
    data: { file: cmd.file, tokens },
    lines: tokens.length === 0 ? [`no tokens in ${cmd.file}`] : table(['NAME', 'PERMISSIONS', 'SCOPES', 'EXPIRES', 'CREATED'], rows),
  };
}

function table(head: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)];
}
