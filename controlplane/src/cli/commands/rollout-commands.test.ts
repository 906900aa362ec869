/**
 * spookyctl's staged-rollout commands against a real API server (fastify listening on 127.0.0.1,
 * a real SQLite file) whose rollout service is the FakeRolloutControl: `activate --staged --wait`
 * exits 0 when the rollout is promoted, 5 when it is rolled back (printing the failed gate's
 * numbers) or aborted, 6 at the timeout; `rollout list|get|wait|pause|…`, `policy get|set` (YAML
 * and JSON, If-Match from a get) and `unfreeze`, with --json output and the exit codes of refusals.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type ApiKit, rolloutKit } from '../../api/api-test-kit.ts';
import { FakeRolloutControl } from '../../api/fake-rollout-control.ts';
import { EXIT } from '../exit-codes.ts';
import { runCli } from '../run-cli.ts';

interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

describe('spookyctl staged rollouts', () => {
  let dir: string;
  let kit: ApiKit;
  let server: string;
  const fake = new FakeRolloutControl();
  /** What the fake does right after each start (the rollout's fate, decided by the test). */
  let onStart: ((id: string) => void) | null = null;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spooky-ctl-rollout-'));
    const start = fake.start.bind(fake);
    fake.start = (req) => {
      const view = start(req);
      const then = onStart;
      // After the 202 went out, as the real service's driver would.
      if (then) setImmediate(() => then(view.id));
      return view;
    };
    kit = await rolloutKit(dir, fake);
    server = await kit.app.listen({ host: '127.0.0.1', port: 0 });
    fake.defaults.set('default', 'staged');
    assert.equal((await ctl(['activate', '1', '--reason', 'first'], 'deployer-token')).code, EXIT.ok, 'the first activation is immediate');
  });
  after(async () => {
    await kit.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function ctl(argv: string[], token = 'admin-token'): Promise<Run> {
    let out = '';
    let err = '';
    const code = await runCli(argv, { SPOOKY_SERVER: server, SPOOKY_TOKEN: token }, { out: (t) => (out += t), err: (t) => (err += t) });
    assert.ok(!out.includes(token) && !err.includes(token), 'the token is never printed');
    return { code, out, err };
  }

  it('activate --staged --wait exits 0 when the rollout is promoted, showing its stages', async () => {
    onStart = (id) => {
      fake.advance(id);
      fake.advance(id);
      fake.advance(id);
    };
    const run = await ctl(['activate', '2', '--staged', '--reason', 'ship', '--wait', '--timeout', '20s'], 'deployer-token');
    assert.equal(run.code, EXIT.ok, run.out + run.err);
    assert.match(run.out, /started staged rollout ro-\d+ of seq 2/);
    assert.match(run.out, /promoted/);
    assert.match(run.out, /\[done\]\s+1\. canary\s+1 node\s+soak 5m/);
  });

  it('exits 5 with the failed gate numbers when the rollout is rolled back, and 5 when aborted', async () => {
    onStart = (id) => fake.finish(id, 'rolled_back', [{ rule: 'health.local_5xx.ratio', observed: 0.2, limit: 0.01, nodes: ['n0'] }]);
    const json = await ctl(['activate', '3', '--staged', '--reason', 'bad', '--wait', '--json'], 'deployer-token');
    assert.equal(json.code, EXIT.rejected, json.out);
    const body = JSON.parse(json.out);
    assert.equal(body.rollout.status, 'rolled_back');
    assert.equal(body.timedOut, false);
    const id = body.rollout.id as string;
    const get = await ctl(['rollout', 'get', id]);
    assert.equal(get.code, EXIT.ok);
    assert.match(get.out, /gate failed: health\.local_5xx\.ratio observed 0\.2 > limit 0\.01 \(nodes n0\)/);
    onStart = (started) => fake.operate(started, 'abort', 'someone');
    const aborted = await ctl(['activate', '3', '--staged', '--reason', 'again', '--wait'], 'deployer-token');
    assert.equal(aborted.code, EXIT.rejected, aborted.out);
    assert.match(aborted.out, /aborted/);
  });

  it('exits 6 when the rollout is still live at --timeout, and 4 on a second staged activation', async () => {
    onStart = null;
    const run = await ctl(['activate', '3', '--reason', 'slow', '--wait', '--timeout', '300ms'], 'deployer-token');
    assert.equal(run.code, EXIT.timeout, run.out + run.err);
    assert.match(run.out, /timed out waiting: rollout ro-\d+ is still running/);
    const id = fake.live('default')?.id;
    assert.ok(id);
    const waited = await ctl(['rollout', 'wait', id, '--timeout', '200ms', '--json']);
    assert.equal(waited.code, EXIT.timeout);
    assert.equal(JSON.parse(waited.out).timedOut, true);
    const conflict = await ctl(['activate', '3', '--staged', '--reason', 'again'], 'deployer-token');
    assert.equal(conflict.code, EXIT.conflict, conflict.err);
    assert.match(conflict.err, /rollout_in_progress|live rollout/);
  });

  it('drives the live rollout: list, pause, resume, promote (permission), abort; refusals exit 4', async () => {
    const id = fake.live('default')?.id;
    assert.ok(id);
    const list = await ctl(['rollout', 'list', '--json']);
    assert.equal(JSON.parse(list.out).items[0].id, id);
    assert.equal((await ctl(['rollout', 'pause', id, '--reason', 'hold'], 'deployer-token')).code, EXIT.ok);
    assert.equal((await ctl(['rollout', 'pause', id, '--reason', 'hold'], 'deployer-token')).code, EXIT.conflict);
    assert.equal((await ctl(['rollout', 'resume', id, '--reason', 'go'], 'deployer-token')).code, EXIT.ok);
    assert.equal((await ctl(['rollout', 'promote', id, '--reason', 'skip'], 'deployer-token')).code, EXIT.forbidden);
    assert.equal((await ctl(['rollout', 'promote', id, '--reason', 'skip'], 'releaser-token')).code, EXIT.ok);
    const abort = await ctl(['rollout', 'abort', id, '--reason', 'stop', '--json'], 'roller-token');
    assert.equal(abort.code, EXIT.ok);
    assert.equal(JSON.parse(abort.out).rollout.status, 'aborted');
    assert.equal((await ctl(['rollout', 'get', 'ro-nope'])).code, EXIT.error, '404 is an error');
    assert.equal((await ctl(['rollout', 'pause', id])).code, EXIT.error, 'usage: --reason is required');
  });

  it('activate --immediate needs config:activate-immediate where the default is staged; --abort-live aborts', async () => {
    const denied = await ctl(['activate', '2', '--immediate', '--reason', 'now'], 'deployer-token');
    assert.equal(denied.code, EXIT.forbidden);
    onStart = null;
    assert.equal((await ctl(['activate', '3', '--staged', '--reason', 'slow'], 'deployer-token')).code, EXIT.ok);
    const live = fake.live('default')?.id;
    assert.ok(live);
    assert.equal((await ctl(['activate', '2', '--immediate', '--reason', 'now'], 'releaser-token')).code, EXIT.conflict);
    const forced = await ctl(['activate', '2', '--immediate', '--abort-live', '--reason', 'now'], 'releaser-token');
    assert.equal(forced.code, EXIT.ok, forced.err);
    assert.equal(fake.get(live)?.status, 'aborted');
  });

  it('policy set (YAML, JSON) takes the ETag from a get; invalid exits 3; --policy goes with --staged', async () => {
    const yaml = join(dir, 'policy.yaml');
    writeFileSync(yaml, 'stages:\n  - { name: canary, labels: { role: canary }, soak_ms: 60000 }\n  - { name: fleet }\n');
    const set = await ctl(['policy', 'set', yaml, '--reason', 'prod policy'], 'policy-token');
    assert.equal(set.code, EXIT.ok, set.err);
    assert.match(set.out, /version 1/);
    const get = await ctl(['policy', 'get', '--json']);
    assert.equal(JSON.parse(get.out).version, 1);
    assert.equal(JSON.parse(get.out).etag, '"1"');
    const jsonFile = join(dir, 'policy.json');
    writeFileSync(jsonFile, JSON.stringify({ stages: [{ name: 'Bad' }] }));
    const invalid = await ctl(['policy', 'set', jsonFile, '--reason', 'bad'], 'policy-token');
    assert.equal(invalid.code, EXIT.invalid, invalid.err);
    assert.match(invalid.err, /\/stages\/0\/name/);
    assert.equal((await ctl(['policy', 'set', yaml, '--reason', 'stale', '--if-match', '0'], 'policy-token')).code, EXIT.conflict);
    onStart = (id) => fake.finish(id, 'promoted');
    const staged = await ctl(['activate', '3', '--staged', '--policy', yaml, '--reason', 'with policy', '--wait'], 'deployer-token');
    assert.equal(staged.code, EXIT.ok, staged.out + staged.err);
    assert.equal(fake.starts.at(-1)?.policy?.stages[0]?.soak_ms, 60_000);
    assert.equal((await ctl(['activate', '3', '--policy', yaml, '--reason', 'x'])).code, EXIT.error, 'usage: --policy needs --staged');
  });

  it('unfreeze lifts a freeze; a frozen scope refuses activation with exit 4', async () => {
    fake.freeze('default');
    const frozen = await ctl(['activate', '3', '--staged', '--reason', 'frozen'], 'deployer-token');
    assert.equal(frozen.code, EXIT.conflict, frozen.err);
    assert.match(frozen.err, /frozen/);
    assert.equal((await ctl(['unfreeze', '--reason', 'fixed'], 'deployer-token')).code, EXIT.forbidden);
    const lifted = await ctl(['unfreeze', '--reason', 'fixed', '--json'], 'policy-token');
    assert.equal(lifted.code, EXIT.ok);
    assert.equal(JSON.parse(lifted.out).frozen, false);
  });
});
