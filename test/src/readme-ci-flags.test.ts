/**
 * issue 11: every spookyctl command and flag the README's CI examples print exists. Reads the
 * "CI usage" section's YAML blocks (folded `run: >` scalars joined as the shell sees them), takes
 * each invocation (`spookyctl.ts …`, `$SPOOKYCTL …`, `spookyctl …`) up to the shell operator that
 * ends it, and checks its command and `--flags` against `spookyctl help --json` (run as a process).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const README = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
const SPOOKYCTL = join(import.meta.dirname, '..', '..', 'controlplane', 'src', 'cli', 'spookyctl.ts');

interface HelpDocument {
  readonly commands: readonly { readonly name: string; readonly options: readonly { readonly name: string }[] }[];
  readonly globalOptions: readonly { readonly name: string }[];
}

/** The YAML blocks of the README's "CI usage" section, folded scalars joined into one line. */
function ciBlocks(): string[] {
  const start = README.indexOf('## CI usage');
  assert.ok(start >= 0, 'README has a "CI usage" section');
  const end = README.indexOf('\n## ', start + 1);
  const section = README.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => foldScalars(m[1] ?? ''));
}

/** Joins the lines of each `key: >` folded scalar onto its key line, as YAML hands them to the shell. */
function foldScalars(yaml: string): string {
  const out: string[] = [];
  let foldIndent = -1;
  for (const line of yaml.split('\n')) {
    const indent = line.length - line.trimStart().length;
    if (foldIndent >= 0 && line.trim() !== '' && indent > foldIndent) {
      out[out.length - 1] = `${out[out.length - 1]} ${line.trim()}`.replace(/: > /, ': ');
      continue;
    }
    foldIndent = /:\s*>\s*$/.test(line) ? indent : -1;
    out.push(line);
  }
  return out.join('\n');
}

/** Each spookyctl invocation's arguments, up to the `||`, `&&`, `;` or `#` that ends it. */
function invocations(text: string): string[] {
  return [...text.matchAll(/(?:spookyctl\.ts|\$SPOOKYCTL|\bspookyctl)[ \t]+([^|;&#\n]+)/g)]
    .map((m) => (m[1] ?? '').trim())
    .filter((args) => /^[a-z]/.test(args));
}

describe('README CI examples: every spookyctl command and flag exists', () => {
  it('foldScalars and invocations read a folded step and a shell line', () => {
    const folded = foldScalars('      - run: >\n          node spookyctl.ts push f.yaml\n          --wait || exit 1\n      - run: x\n');
    assert.equal(folded, '      - run: node spookyctl.ts push f.yaml --wait || exit 1\n      - run: x\n');
    assert.deepEqual(invocations('if a; then $SPOOKYCTL rollback --to previous --wait; fi'), ['rollback --to previous --wait']);
  });

  it('each invocation names a command of help --json and only its options or global ones', () => {
    const help = JSON.parse(execFileSync(process.execPath, [SPOOKYCTL, 'help', '--json'], { encoding: 'utf8', timeout: 30_000 })) as HelpDocument;
    const globals = new Set(help.globalOptions.map((o) => o.name));
    const runs = ciBlocks().flatMap(invocations);
    for (const name of ['lint', 'plan', 'push', 'rollback', 'tokens create']) {
      assert.ok(runs.some((r) => r.startsWith(`${name} `)), `the examples run ${name}`);
    }
    for (const run of runs) {
      // The longest command name the invocation starts with ("tokens create", not a shorter one).
      const command = help.commands.filter((c) => run === c.name || run.startsWith(`${c.name} `)).sort((a, b) => b.name.length - a.name.length)[0];
      assert.ok(command, `"${run}" is a spookyctl command`);
      const allowed = new Set([...command.options.map((o) => o.name), ...globals]);
      for (const flag of run.match(/(?<=^|\s)--[a-z][a-z-]*/g) ?? []) assert.ok(allowed.has(flag), `"${run}": ${flag} is not an option of ${command.name}`);
    }
  });
});
