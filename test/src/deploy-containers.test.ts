/**
 * deploy/docker built and run for real (opt-in, SPOOKY_TEST_CONTAINERS=1): the images built and
 * the compose file run with podman (harness/podman-compose.ts).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { PodmanCompose } from './harness/podman-compose.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const DEPLOY = join(ROOT, 'deploy');
const has = (command: string): boolean => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;

describe('deploy/docker built and run with podman (opt-in: SPOOKY_TEST_CONTAINERS=1)', () => {
  // Opt-in: building the images takes minutes of the two shared cores, and needs the base image
  // node:24-bookworm-slim already present (nothing is pulled). The podman options this machine
  // needs are in podman-compose.ts.
  const enabled = process.env['SPOOKY_TEST_CONTAINERS'] === '1' && has('podman')
    && spawnSync('podman', [...(process.env['SPOOKY_PODMAN_OPTS'] ?? '').split(/\s+/).filter(Boolean), 'image', 'exists', 'node:24-bookworm-slim']).status === 0;
  const compose = new PodmanCompose(join(DEPLOY, 'docker', 'docker-compose.yml'), `spooky-e2e-${process.pid}`);

  test('the images build and the compose services come up: two data planes serve the origin over TLS, connected over mutual TLS', { timeout: 900_000 }, (t) => {
    if (!enabled) {
      t.skip('set SPOOKY_TEST_CONTAINERS=1 with podman and a local node:24-bookworm-slim image');
      return;
    }
    try {
      compose.build();
      compose.up();
      const ca = { SPOOKY_CA_FILE: '/etc/spooky/pki/ca.crt' };
      for (const dp of ['dataplane-1', 'dataplane-2']) {
        compose.waitHealthy(dp);
        const get = `require('node:https').get({host: '${dp}', port: 9443, path: '/through', servername: 'localhost', ca: require('node:fs').readFileSync(process.env.SPOOKY_CA_FILE)},
          (r) => { let b = ''; r.on('data', (d) => (b += d)); r.on('end', () => console.log(r.statusCode, b.trim())); }).on('error', (e) => console.log(e.message))`;
        const out = compose.runOnce('runtime', ['pki:/etc/spooky/pki:ro'], ca, ['node', '-e'], [get]);
        assert.equal(out.stdout.trim(), '200 hello from the demo origin: /through', `${dp}: ${out.stderr}`);
      }
      const nodes = compose.runOnce('runtime', ['pki:/etc/spooky/pki:ro'], { ...ca, SPOOKY_SERVER: 'https://controlplane:8443', SPOOKY_SCOPE: 'default' }, ['sh', '-ec'],
        ['export SPOOKY_TOKEN="$(node -p "require(\'/etc/spooky/pki/admin-token.json\').token")"; node controlplane/src/cli/spookyctl.ts nodes --json']);
      const list = JSON.parse(nodes.stdout) as { nodeId?: string; id?: string; state: string }[] | { items: { nodeId?: string; id?: string; state: string }[] };
      const items = Array.isArray(list) ? list : list.items;
      assert.deepEqual(items.map((n) => `${n.nodeId ?? n.id} ${n.state}`).sort(), ['edge-1 connected', 'edge-2 connected']);
      const token = compose.runOnce('runtime', ['pki:/p:ro'], {}, ['node', '-p'], ["require('/p/admin-token.json').token"]).stdout.trim();
      assert.ok(token.length > 20);
      for (const service of Object.keys(compose.services)) assert.equal(compose.logs(service).includes(token), false, `no token in the ${service} log`);
      assert.equal(compose.podman(['stop', '-t', '30', compose.container('dataplane-1')]).status, 0);
      assert.equal(compose.podman(['inspect', '--format', '{{.State.ExitCode}}', compose.container('dataplane-1')]).stdout.trim(), '0', 'SIGTERM drains and exits 0');
    } finally {
      compose.down();
    }
  });
});
