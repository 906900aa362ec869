/**
 * validate FILE --offline, and lint FILE: the server's validate run locally, with no server and
 * no token (so a pull request from a fork, which has no secrets, can check its config). The same
 * parse (parseSubmission → parseConfigText), the same digest and size, the same issue cap, the
 * same output and exit codes as the online validate (0 valid, 3 invalid, 1 unreadable file).
 * What only the server knows is absent: `diff` is null (no active generation to compare with),
 * and nothing checks the fleet's schema range. `offline: true` says so in --json.
 */
import { capIssues } from '../../api/response-bounds.ts';
import { parseSubmission } from '../../generations/config-input.ts';
import { readConfigFile } from '../config-file.ts';
import type { CommandResult } from '../output.ts';
import { type ValidateBody, validateResult } from './config-commands.ts';

export async function validateOfflineCommand(file: string): Promise<CommandResult> {
  const config = await readConfigFile(file);
  const format = config.contentType === 'application/yaml' ? 'yaml' : 'json';
  const parsed = parseSubmission({ text: config.text, format });
  // The keys of the server's answer, in its order, plus `offline`.
  const rest = { diff: null, truncated: false, totalChanges: null, offline: true } as const;
  const body: ValidateBody =
    parsed.kind === 'ok'
      ? { valid: true, digest: parsed.digest, sizeBytes: parsed.sizeBytes, issues: [], ...rest }
      : { valid: false, digest: null, sizeBytes: null, ...capIssues(parsed.issues), ...rest };
  return validateResult(file, body);
}
