/**
 * Reads a config file for validate/plan/push. YAML or JSON: `.json` is JSON, `.yaml`/`.yml` is
 * YAML, anything else is JSON when it starts with `{`, else YAML. The text is sent as is; the
 * server parses it (so issues point into the user's own document).
 */
import { readFile } from 'node:fs/promises';
import { CliError } from './cli-error.ts';
import { EXIT } from './exit-codes.ts';

export interface ConfigFile {
  readonly path: string;
  readonly text: string;
  readonly contentType: 'application/json' | 'application/yaml';
}

export async function readConfigFile(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new CliError('file_unreadable', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, EXIT.error);
  }
  return { path, text, contentType: configContentType(path, text) };
}

export function configContentType(path: string, text: string): ConfigFile['contentType'] {
  const lower = path.toLowerCase();
  if (lower.endsWith('.json')) return 'application/json';
  if (lower.endsWith('.yaml') || lower.endsWith('.yml')) return 'application/yaml';
  return text.trimStart().startsWith('{') ? 'application/json' : 'application/yaml';
}
