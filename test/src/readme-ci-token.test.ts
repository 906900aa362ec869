/**
 * issue 11: the token the README suggests for CI must be able to run the README's CI examples
 * (it once lacked config:rollback, so the suggested rollback answered 403 → exit 7). Reads the
 * "CI usage" section: the `--permissions` list of the suggested `tokens create`, and every
 * spookyctl command the examples run.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PERMISSIONS } from '../../controlplane/src/auth/permissions.ts';

const README = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');

/** The permission each spookyctl command (or flag) of the examples needs (README "A CI job's token"). */
const NEEDS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\b(validate|plan|history|diff)\b/, 'config:read'],
  [/\bpush\b/, 'config:write'],
  [/\bactivate\b|--activate\b/, 'config:activate'],
  [/\brollback\b/, 'config:rollback'],
  [/--wait\b|\bstatus\b|\bnodes\b/, 'fleet:read'],
];

function ciSection(): string {
  const start = README.indexOf('## CI usage');
  assert.ok(start >= 0, 'README has a "CI usage" section');
  const end = README.indexOf('\n## ', start + 1);
  return README.slice(start, end < 0 ? undefined : end);
}

describe('README CI examples', () => {
  it('the suggested CI token carries every permission the examples use', () => {
    const section = ciSection();
    const blocks = [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
    assert.ok(blocks.length >= 2, 'the GitHub and GitLab examples');
    const suggested = /tokens create --name \S+ --permissions (\S+)/.exec(blocks.join('\n'));
    assert.ok(suggested, 'an example suggests a tokens create command');
    const granted = new Set(suggested[1]!.split(','));
    for (const p of granted) assert.ok((PERMISSIONS as readonly string[]).includes(p), `${p} is a known permission`);
    // Each spookyctl invocation in the examples: `spookyctl.ts <args>` or `$SPOOKYCTL <args>`, up to the step's end.
    const runs = blocks
      .join('\n')
      .replace(/>\n\s+/g, ' ')
      .split('\n')
      .filter((l) => /spookyctl\.ts |\$SPOOKYCTL /.test(l) && !/^\s*SPOOKYCTL:/.test(l));
    assert.ok(runs.some((l) => /\brollback\b/.test(l)), 'an example rolls back');
    for (const run of runs) {
      const command = run.replace(/.*?(spookyctl\.ts|\$SPOOKYCTL) /, '');
      for (const [pattern, permission] of NEEDS) {
        if (pattern.test(command)) assert.ok(granted.has(permission), `"${command.trim()}" needs ${permission}`);
      }
    }
  });
});
