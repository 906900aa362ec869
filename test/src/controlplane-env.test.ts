/**
 * The control plane's SPOOKY_CP_* variables as the deployment material and the docs use them:
 * - every SPOOKY_CP_* name written anywhere in deploy/, README.md or docs/ is one the control
 *   plane reads (controlplane/src/settings/settings.ts CONTROLPLANE_ENV) or the rule's
 *   placeholder SPOOKY_CP_FLAG_NAME; a family written with a `*` (`SPOOKY_CP_HTTP_TLS_*`) names
 *   at least one of them (and the bare prefix `SPOOKY_CP_` states the rule);
 * - README's control-plane flags table lists every flag with its variable.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CONTROLPLANE_ENV } from '../../controlplane/src/settings/settings.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const KNOWN = new Set([...CONTROLPLANE_ENV.map(([, name]) => name), 'SPOOKY_CP_FLAG_NAME']);

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe('SPOOKY_CP_* in the deployment material and the docs', () => {
  test('every name used is one the control plane reads', () => {
    const files = [...filesUnder(join(ROOT, 'deploy')), ...filesUnder(join(ROOT, 'docs')), join(ROOT, 'README.md')];
    const seen = new Set<string>();
    for (const file of files) {
      for (const [written] of readFileSync(file, 'utf8').matchAll(/SPOOKY_CP_[A-Z0-9_]*\*?/g)) {
        const where = file.slice(ROOT.length + 1);
        if (written.endsWith('*')) {
          const prefix = written.slice(0, -1);
          assert.ok([...KNOWN].some((name) => name.startsWith(prefix)), `${where} names ${written}, which matches no variable the control plane reads`);
          continue;
        }
        if (written === 'SPOOKY_CP_') continue; // the prefix itself, as the docs state the rule
        assert.ok(KNOWN.has(written), `${where} names ${written}, which the control plane does not read`);
        seen.add(written);
      }
    }
    assert.ok(seen.size >= CONTROLPLANE_ENV.length, 'README lists them all');
  });

  test("README's control-plane flags table has a row for every flag with its variable", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const [flag, name] of CONTROLPLANE_ENV) {
      const row = new RegExp(`^\\| \`--${flag}[ \`][^|]*\\| \`${name}\``, 'm');
      assert.match(readme, row, `a row "| \`--${flag} …\` | \`${name}\` |"`);
    }
  });
});
