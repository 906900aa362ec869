/**
 * The SPOOKY_DP_* / SPOOKY_CP_* names in deploy/kubernetes are ones the planes read
 * (dataplane/src/bootstrap/flags.ts DATAPLANE_ENV, controlplane/src/settings/settings.ts
 * CONTROLPLANE_ENV): a misspelt variable is silently ignored by Kubernetes and by the plane, so
 * only this check catches it. And the data-plane container is configured by its environment: its
 * args are no flag but --drain-timeout-ms.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { CONTROLPLANE_ENV } from '../../controlplane/src/settings/settings.ts';
import { DATAPLANE_ENV } from '../../dataplane/src/bootstrap/flags.ts';

const KUBERNETES = join(import.meta.dirname, '..', '..', 'deploy', 'kubernetes');
const KNOWN = new Set([...DATAPLANE_ENV, ...CONTROLPLANE_ENV].map(([, name]) => name));

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe('deploy/kubernetes: the planes’ environment variables', () => {
  test('every SPOOKY_DP_* and SPOOKY_CP_* name is one the planes read', () => {
    let seen = 0;
    for (const file of filesUnder(KUBERNETES)) {
      for (const [written] of readFileSync(file, 'utf8').matchAll(/SPOOKY_(?:DP|CP)_[A-Z0-9_]*\*?/g)) {
        if (written.endsWith('*')) continue; // a family named in a comment (SPOOKY_CP_*)
        assert.ok(KNOWN.has(written), `${file.slice(KUBERNETES.length + 1)} names ${written}, which no plane reads`);
        seen++;
      }
    }
    assert.ok(seen >= 10, `the manifests configure the planes by variables (${seen} seen)`);
  });

  test('the data-plane container takes its settings from env, args only pin the drain bound', () => {
    const set = parse(readFileSync(join(KUBERNETES, 'base', 'dataplane-statefulset.yaml'), 'utf8'));
    const container = set.spec.template.spec.containers[0];
    assert.deepEqual(container.args, ['--drain-timeout-ms', '5000']);
    const names = (container.env as { name: string }[]).map((e) => e.name);
    for (const required of ['SPOOKY_DP_CONTROL_PLANE', 'SPOOKY_DP_NODE_ID', 'SPOOKY_DP_SCOPE', 'SPOOKY_DP_CACHE_DIR', 'SPOOKY_DP_ADMIN']) {
      assert.ok(names.includes(required), `${required} is set`);
    }
    assert.equal(names[0], 'POD_NAME', 'POD_NAME comes first: later values refer to it as $(POD_NAME)');
  });
});
