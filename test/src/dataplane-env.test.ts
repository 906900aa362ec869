/**
 * The data plane's SPOOKY_DP_* variables as the deployment material and the docs use them:
 * - every SPOOKY_DP_* name written anywhere in deploy/, README.md or docs/ is one the data plane
 *   reads (dataplane/src/bootstrap/flags.ts DATAPLANE_ENV), the systemd unit's own
 *   SPOOKY_DP_EXTRA_ARGS, or the rule's placeholder SPOOKY_DP_FLAG_NAME;
 * - README's table lists every flag with its variable;
 * - deploy/systemd/dataplane.env, as systemd hands it to the process (plus the unit's
 *   `Environment=` default for the node id), is a whole control-plane-mode configuration over
 *   mutual TLS with no flag but the unit's --cache-dir, and so is each commented-out example
 *   line once uncommented.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { DATAPLANE_ENV, parseFlags } from '../../dataplane/src/bootstrap/flags.ts';
import { parseEnvFile } from './harness/deploy-manifests.ts';

const ROOT = join(import.meta.dirname, '..', '..');
/** The variables, the unit's own SPOOKY_DP_EXTRA_ARGS, and the rule's placeholder `SPOOKY_DP_FLAG_NAME`. */
const KNOWN = new Set([...DATAPLANE_ENV.map(([, name]) => name), 'SPOOKY_DP_EXTRA_ARGS', 'SPOOKY_DP_FLAG_NAME']);

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe('SPOOKY_DP_* in the deployment material and the docs', () => {
  test('every name used is one the data plane reads', () => {
    const files = [...filesUnder(join(ROOT, 'deploy')), ...filesUnder(join(ROOT, 'docs')), join(ROOT, 'README.md')];
    const seen = new Set<string>();
    for (const file of files) {
      for (const [name] of readFileSync(file, 'utf8').matchAll(/SPOOKY_DP_[A-Z0-9_]*[A-Z0-9]/g)) {
        assert.ok(KNOWN.has(name), `${file.slice(ROOT.length + 1)} names ${name}, which the data plane does not read`);
        seen.add(name);
      }
    }
    assert.ok(seen.size >= DATAPLANE_ENV.length, 'README lists them all');
  });

  test("README's flags table has a row for every flag with its variable", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const [flag, name] of DATAPLANE_ENV) {
      const row = new RegExp(`^\\| \`--${flag}[^|]*\\| \`${name}\``, 'm');
      assert.match(readme, row, `a row "| \`--${flag} …\` | \`${name}\` |"`);
    }
  });

  test('dataplane.env is the whole configuration of the unit, every example line included', () => {
    const text = readFileSync(join(ROOT, 'deploy', 'systemd', 'dataplane.env'), 'utf8');
    const base = { SPOOKY_DP_NODE_ID: 'edge-1', ...parseEnvFile(text) };
    const examples = text
      .split('\n')
      .filter((line) => /^#SPOOKY_DP_[A-Z_]+=/.test(line) && !line.startsWith('#SPOOKY_DP_EXTRA_ARGS='))
      .map((line) => parseEnvFile(line.slice(1)));
    assert.ok(examples.length >= 5, 'the optional settings are shown');
    for (const example of [{}, ...examples, Object.assign({}, ...examples)]) {
      const env = { ...base, ...example };
      const r = parseFlags(['--cache-dir', '/var/cache/spooky'], 2, env);
      assert.ok(r.ok, `${JSON.stringify(example)}: ${r.ok ? '' : r.error}`);
      assert.equal(r.settings.mode, 'control-plane');
      if (r.settings.mode !== 'control-plane') return;
      assert.equal(r.settings.controlPlane, 'cp.internal:8090');
      assert.equal(r.settings.nodeId, 'edge-1');
      assert.ok(r.settings.controlTls, 'mutual TLS from SPOOKY_DP_CA_FILE/CERT/KEY');
      for (const [name, value] of Object.entries(example)) {
        if (name === 'SPOOKY_DP_LOG_LEVEL') assert.deepEqual([r.settings.logLevel, r.settings.logLevelFromFlag], [value, true]);
        if (name === 'SPOOKY_DP_WORKERS') assert.equal(r.settings.workers, Number(value));
        if (name === 'SPOOKY_DP_LABEL') assert.deepEqual(Object.keys(r.settings.labels), ['zone', 'rack']);
      }
    }
  });
});
