/**
 * End to end, real processes: the fleet harness (harness/netns-fleet.ts) itself. A real control
 * plane and five real data planes (`--workers 1`, one labelled role=canary), each in its own
 * network namespace, all serving ONE config with the same listener address and port:
 *  1. an immediate activation reaches all five (admin /generation of each node, and the
 *     control plane's /v1/nodes with the labels each node announced);
 *  2. HTTPS GETs through every node's listener reach the real origin, verified against the test
 *     CA; each new connection comes from another client address (the origin's x-forwarded-for);
 *  3. the fault origin fails exactly its share through the proxy (503 and connection reset);
 *  4. a fleet whose second node fails to start rejects and leaves no process behind;
 *  5. a wedged node (SIGSTOP of its namespace wrapper) goes stale at the control plane while
 *     the others stay connected, and comes back connected after SIGCONT.
 * Skipped with a message where `unshare -n` is not allowed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { eventually } from './harness/eventually.ts';
import { type FaultOrigin, startFaultOrigin } from './harness/fault-origin.ts';
import { fleetConfig } from './harness/fleet-config.ts';
import { freePort } from './harness/free-port.ts';
import { type Fleet, NETNS_SKIP, netnsAvailable, startFleet } from './harness/netns-fleet.ts';
import { type Origin, startH1Origin } from './harness/origins.ts';
import { makeCa, makeLeaf, type Pem } from './harness/pki.ts';
import { ControlPlane } from './harness/planes.ts';

const SCOPE = 'fleet';
const NODES = [
  { id: 'n1', labels: { role: 'canary' } },
  { id: 'n2', labels: { role: 'edge' } },
  { id: 'n3', labels: { role: 'edge' } },
  { id: 'n4', labels: { role: 'edge' } },
  { id: 'n5', labels: { role: 'edge' } },
];

interface NodeItem {
  nodeId: string;
  state: string;
  labels: Record<string, string>;
  serving: { seq: number } | null;
}

const skip = netnsAvailable() ? false : NETNS_SKIP;

describe('netns fleet: five data planes, one config, one host', { skip }, () => {
  let dir: string;
  let cp: ControlPlane;
  let origin: Origin;
  let flaky: FaultOrigin;
  let resets: FaultOrigin;
  let fleet: Fleet;
  let ca: Pem;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spooky-netns-fleet-'));
    ca = makeCa(join(dir, 'pki'), 'ca');
    const leaf = makeLeaf(join(dir, 'pki'), 'listener', 'localhost', 'DNS:localhost,IP:127.0.0.1', ca);
    origin = await startH1Origin('origin-a');
    flaky = await startFaultOrigin('flaky', { failShare: 0.2 });
    resets = await startFaultOrigin('resets', { failShare: 0.25, kind: 'reset' });
    cp = await ControlPlane.start(join(dir, 'cp'), { reportIntervalMs: 500 });
    const port = await freePort();
    const config = fleetConfig(port, leaf, [
      { name: 'app', pathPrefix: '/', backend: origin.url },
      { name: 'flaky', pathPrefix: '/flaky', backend: flaky.url },
      { name: 'resets', pathPrefix: '/resets', backend: resets.url },
    ]);
    const seq = await cp.pushAndActivate(SCOPE, config, 'netns fleet: first generation');
    assert.equal(seq, 1);
    fleet = await startFleet({
      controlPlaneGrpc: cp.grpc,
      scope: SCOPE,
      nodes: NODES,
      cacheRoot: join(dir, 'cache'),
      listenerPort: port,
      hostPorts: [origin.port, flaky.port, resets.port],
      caFile: ca.cert,
    });
  });

  after(async () => {
    await fleet?.stop();
    await cp?.proc.stop();
    await origin?.close();
    await flaky?.close();
    await resets?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('an immediate activation reaches all five nodes', async () => {
    for (const n of fleet.nodes) {
      await n.dp.waitForApplied(1, 30_000);
      const view = await n.generation();
      assert.equal(view.serving?.seq, 1, `${n.id} serves 1`);
      assert.equal(view.serving?.source, 'control-plane');
    }
    const items = await eventually('the control plane sees five nodes serving 1', async () => {
      const res = await cp.api<{ items: NodeItem[] }>('GET', `/v1/nodes?scope=${SCOPE}`);
      const serving = res.body.items.filter((i) => i.serving?.seq === 1 && i.state === 'connected');
      return serving.length === NODES.length ? res.body.items : undefined;
    });
    assert.deepEqual(
      items.map((i) => [i.nodeId, i.labels['role']]),
      NODES.map((n) => [n.id, n.labels.role]),
    );
    assert.equal(new Set(fleet.nodes.map((n) => n.pid)).size, NODES.length, 'five distinct data-plane processes');
  });

  test('HTTPS through every node reaches the origin; each connection is another client address', async () => {
    const before = origin.requests.length;
    const clients = new Set<string>();
    for (const n of fleet.nodes) {
      for (let i = 0; i < 3; i++) {
        const res = await n.request(`/hello/${n.id}/${i}`);
        assert.equal(res.status, 200, `${n.id}: ${res.error ?? res.body}`);
        assert.equal(res.headers['x-origin'], 'origin-a');
        const seen = JSON.parse(res.body) as { path: string; headers: Record<string, string> };
        assert.equal(seen.path, `/hello/${n.id}/${i}`);
        clients.add(`${n.id} ${seen.headers['x-forwarded-for']}`);
      }
    }
    assert.equal(origin.requests.length - before, NODES.length * 3);
    assert.equal(clients.size, NODES.length * 3, `distinct client addresses per node: ${[...clients].join(', ')}`);
    for (const c of clients) assert.match(c, /^n\d 127\.0\.0\.\d+$/);
  });

  test('the fault origin fails exactly its share through the proxy (503 and reset)', async () => {
    const node = fleet.node('n2');
    const client = node.client(1_000);
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) statuses.push((await client.get(`/flaky/${i}`, 10_000)).status);
      assert.equal(statuses.filter((s) => s === 503).length, 4, `1 in 5 fails: ${statuses.join(' ')}`);
      assert.equal(statuses.filter((s) => s === 200).length, 16);
      const reset: number[] = [];
      for (let i = 0; i < 8; i++) reset.push((await client.get(`/resets/${i}`, 10_000)).status);
      assert.equal(reset.filter((s) => s === 200).length, 6, `1 in 4 reset: ${reset.join(' ')}`);
      assert.ok(reset.filter((s) => s !== 200).every((s) => s >= 500), `a reset origin is a 5xx for the client: ${reset.join(' ')}`);
    } finally {
      await client.close();
    }
    assert.equal(flaky.counts.failed, 4);
    assert.ok(resets.counts.failed >= 2);
  });

  test('a node that fails to start: startFleet rejects and leaves none of its processes behind', async () => {
    const cacheRoot = join(dir, 'cache-failing');
    await assert.rejects(
      startFleet({
        controlPlaneGrpc: cp.grpc,
        scope: 'fleet-failing',
        nodes: [{ id: 'ok-1' }, { id: 'bad-1', labels: { 'not a key': 'x' } }],
        cacheRoot,
        listenerPort: await freePort(),
        caFile: ca.cert,
      }),
      /exited .* before the awaited log line/,
    );
    const mine = readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(cacheRoot);
        } catch {
          return false; // exited meanwhile
        }
      });
    assert.deepEqual(mine, [], 'no process of the failed fleet is left');
  });

  test('a wedged node (SIGSTOP of its wrapper) goes stale; the others stay connected; SIGCONT brings it back', async () => {
    const wedged = fleet.node('n4');
    const states = async () => {
      const res = await cp.api<{ items: NodeItem[] }>('GET', `/v1/nodes?scope=${SCOPE}`);
      return Object.fromEntries(res.body.items.map((i) => [i.nodeId, i.state]));
    };
    wedged.wedge();
    try {
      const seen = await eventually('n4 not connected while wedged', async () => {
        const s = await states();
        return s['n4'] !== 'connected' ? s : undefined;
      }, { timeoutMs: 20_000 });
      assert.notEqual(seen['n4'], 'connected');
      for (const id of ['n1', 'n2', 'n3', 'n5']) assert.equal(seen[id], 'connected', `${id} unaffected`);
      const blocked = await wedged.request('/while-wedged', 1_000);
      assert.equal(blocked.status, 0, 'no client traffic through a wedged node');
    } finally {
      wedged.unwedge();
    }
    await eventually('n4 connected again', async () => ((await states())['n4'] === 'connected' ? true : undefined), { timeoutMs: 30_000 });
    assert.equal((await wedged.request('/after-wedge')).status, 200);
  });
});
