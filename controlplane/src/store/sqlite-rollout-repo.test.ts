import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { GenerationService } from '../generations/generation-service.ts';
import { reduce } from '../rollout/rollout-machine.ts';
import { DEFAULT_ROLLOUT_POLICY } from '../rollout/rollout-policy.ts';
import { LiveRolloutConflict, PolicyVersionConflict, RolloutFinished, RolloutLogMismatch, RolloutNotFound } from '../rollout/rollout-ports.ts';
import type { RolloutState, Step } from '../rollout/rollout-state.ts';
import { SCENARIO_POLICY, SCENARIO_SCOPE, scenarioSteps, scenarioTick } from '../testing/rollout-scenario.ts';
import { openStore, type SqliteStore } from './open-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'spooky-rollout-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const minimalYaml = readFileSync(new URL('../../../config/examples/minimal.yaml', import.meta.url), 'utf8');
const who = { actor: 'tester', reason: 'test' };
const meta = { author: 'ops', reason: 'slower canary', at: '2026-01-01T00:00:00.000Z' };

/** A store at `name` whose scope `prod` has generations 1 (the LKG) and 2 (the target). */
function freshStore(name: string): { path: string; store: SqliteStore } {
  const path = join(dir, name);
  const store = openStore(path);
  const generations = new GenerationService({ repo: store.generations, audit: store.audit, clock: { now: () => new Date() } });
  for (const port of [7001, 7002]) {
    generations.create(SCENARIO_SCOPE, { text: minimalYaml.replace('port: 9889', `port: ${port}`), format: 'yaml' }, who);
  }
  return { path, store };
}

/** The lines step `i` appended to the log. */
const newLines = (steps: readonly Step[], i: number) => steps[i]!.state.log.slice(steps[i - 1]!.state.log.length);
const roundTrip = (s: RolloutState): RolloutState => JSON.parse(JSON.stringify(s)) as RolloutState;

describe('SqliteRolloutRepo', () => {
  it('versions policies per scope with compare-and-swap on the current version', () => {
    const { store } = freshStore('policy.db');
    const repo = store.rollouts;
    assert.equal(repo.currentPolicy('prod'), null);
    const first = repo.putPolicy('prod', DEFAULT_ROLLOUT_POLICY, meta, 0);
    assert.equal(first.version, 1);
    assert.throws(() => repo.putPolicy('prod', SCENARIO_POLICY, meta, 0), (err: unknown) => {
      assert.ok(err instanceof PolicyVersionConflict);
      assert.deepEqual([err.expected, err.current], [0, 1]);
      return true;
    });
    assert.equal(repo.putPolicy('prod', SCENARIO_POLICY, meta, 1).version, 2);
    assert.equal(repo.putPolicy('prod', DEFAULT_ROLLOUT_POLICY, meta).version, 3, 'without an expected version it just appends');
    assert.equal(repo.putPolicy('prod-eu', SCENARIO_POLICY, meta, 0).version, 1, 'scopes are versioned apart');
    const rows = store.db.prepare("SELECT version FROM rollout_policies WHERE scope = 'prod' ORDER BY version").all();
    assert.deepEqual(rows, [{ version: 1 }, { version: 2 }, { version: 3 }], 'every version is kept');
    store.close();

    const reopened = openStore(join(dir, 'policy.db'));
    const current = reopened.rollouts.currentPolicy('prod');
    assert.deepEqual(current, { scope: 'prod', version: 3, policy: DEFAULT_ROLLOUT_POLICY, author: 'ops', reason: 'slower canary', createdAt: meta.at });
    assert.deepEqual(reopened.rollouts.currentPolicy('prod-eu')?.policy, SCENARIO_POLICY);
    reopened.close();
  });

  it('restores the exact RolloutState after every saved step, and the restored state reduces like the original', () => {
    const { path, store } = freshStore('restore.db');
    const steps = scenarioSteps();
    store.rollouts.create({ state: steps[0]!.state, policyVersion: 0, effects: steps[0]!.effects });
    store.close();
    for (let i = 1; i < steps.length; i++) {
      const s = openStore(path);
      const loaded = s.rollouts.get('r-1');
      assert.ok(loaded);
      assert.deepEqual(loaded.state, roundTrip(steps[i - 1]!.state), `state before step ${i}`);
      s.rollouts.save('r-1', steps[i]!.state, newLines(steps, i), steps[i]!.effects);
      s.close();
    }
    const s = openStore(path);
    const last = steps[steps.length - 1]!.state;
    const loaded = s.rollouts.get('r-1');
    assert.ok(loaded);
    assert.deepEqual(loaded.state, roundTrip(last));
    assert.equal(loaded.status, 'rolled_back');
    assert.equal(loaded.policyVersion, 0);
    assert.ok(loaded.state.log.some((d) => d.kind === 'gate_failed' && d.failures?.[0]?.rule === 'nack.budget'), 'the gate numbers survive');

    // A live state read back resumes identically: same effects, same next state.
    const liveBefore = steps[2]!.state;
    const restored = roundTrip(liveBefore);
    const event = scenarioTick(liveBefore, liveBefore.stage.startedAtMs + 500_000);
    assert.deepEqual(roundTrip(reduce(restored, event).state), roundTrip(reduce(liveBefore, event).state));
    assert.deepEqual(JSON.parse(JSON.stringify(reduce(restored, event).effects)), JSON.parse(JSON.stringify(reduce(liveBefore, event).effects)));
    s.close();
  });

  it('allows at most one live rollout per scope (the partial unique index is the guarantee)', () => {
    const { store } = freshStore('live.db');
    const repo = store.rollouts;
    const a = scenarioSteps('r-a');
    const b = scenarioSteps('r-b');
    repo.create({ state: a[0]!.state, policyVersion: 0, effects: a[0]!.effects });
    assert.equal(repo.live('prod')?.id, 'r-a');
    assert.throws(() => repo.create({ state: b[0]!.state, policyVersion: 0, effects: b[0]!.effects }), (err: unknown) => {
      assert.ok(err instanceof LiveRolloutConflict);
      assert.equal(err.liveId, 'r-a');
      return true;
    });
    assert.equal(repo.get('r-b'), null, 'nothing of the refused rollout was written');
    assert.deepEqual(
      repo.pendingEffects().map((e) => e.rolloutId),
      a[0]!.effects.map(() => 'r-a'),
    );
    // Written past the repo's own check, the index still refuses a second live row.
    assert.throws(
      () =>
        store.db
          .prepare(
            `INSERT INTO rollouts (id, scope, target_seq, lkg_seq, policy_version, status, state, created_at, updated_at)
             VALUES ('raw', 'prod', 2, 1, 0, 'paused', '{}', 'x', 'x')`,
          )
          .run(),
      { code: 'SQLITE_CONSTRAINT_UNIQUE' },
    );
    // Once r-a is final, the scope takes a new live rollout.
    for (let i = 1; i < a.length; i++) repo.save('r-a', a[i]!.state, newLines(a, i), a[i]!.effects);
    assert.equal(repo.live('prod'), null);
    repo.create({ state: b[0]!.state, policyVersion: 0, effects: b[0]!.effects });
    assert.equal(repo.live('prod')?.id, 'r-b');
    store.db.exec('VACUUM'); // may renumber implicit rowids; the order must not depend on them
    assert.deepEqual(
      repo.list('prod').map((r) => [r.id, r.status]),
      [
        ['r-b', 'running'],
        ['r-a', 'rolled_back'],
      ],
    );
    assert.deepEqual(repo.list('prod', 1).map((r) => r.id), ['r-b']);
    store.close();
  });

  it('refuses saves that would lose or repeat a log line, of unknown ids and of finished rollouts (nothing is written then); the log is append-only', () => {
    const { store } = freshStore('refuse.db');
    const repo = store.rollouts;
    const steps = scenarioSteps();
    repo.create({ state: steps[0]!.state, policyVersion: 0, effects: steps[0]!.effects });
    const before = { rollout: repo.get('r-1'), pending: repo.pendingEffects() };
    assert.throws(() => repo.save('r-1', steps[1]!.state, [], steps[1]!.effects), RolloutLogMismatch);
    assert.throws(() => repo.save('r-1', steps[1]!.state, steps[1]!.state.log, steps[1]!.effects), RolloutLogMismatch);
    assert.throws(() => repo.save('r-1', steps[1]!.state, newLines(steps, 1).slice().reverse(), steps[1]!.effects), RolloutLogMismatch);
    assert.throws(() => repo.save('nope', steps[1]!.state, newLines(steps, 1), []), RolloutNotFound);
    // A crash inside the caller's transaction after the save: all of it rolls back.
    assert.throws(() =>
      repo.transaction(() => {
        repo.save('r-1', steps[1]!.state, newLines(steps, 1), steps[1]!.effects);
        throw new Error('crash');
      }),
    );
    assert.deepEqual({ rollout: repo.get('r-1'), pending: repo.pendingEffects() }, before);
    for (let i = 1; i < steps.length; i++) repo.save('r-1', steps[i]!.state, newLines(steps, i), steps[i]!.effects);
    const last = steps[steps.length - 1]!.state;
    assert.throws(() => repo.save('r-1', last, [], []), RolloutFinished);
    assert.throws(() => store.db.prepare("UPDATE rollout_decisions SET line = '{}' WHERE n = 0").run(), /append-only/);
    assert.throws(() => store.db.prepare('DELETE FROM rollout_decisions').run(), /append-only/);
    store.close();
  });

  it('keeps the state and every pending effect across a SIGKILL between saving and carrying out effects, once each', () => {
    const { path, store } = freshStore('crash.db');
    store.close();
    const steps = scenarioSteps();
    // A real process writes the rollout and one step, then dies before carrying out an effect.
    const child = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { openStore } = await import(${JSON.stringify(new URL('./open-store.ts', import.meta.url).href)});
         const { scenarioSteps } = await import(${JSON.stringify(new URL('../testing/rollout-scenario.ts', import.meta.url).href)});
         const steps = scenarioSteps();
         const store = openStore(process.argv[1]);
         store.rollouts.create({ state: steps[0].state, policyVersion: 0, effects: steps[0].effects });
         store.rollouts.save('r-1', steps[1].state, steps[1].state.log.slice(steps[0].state.log.length), steps[1].effects);
         process.stdout.write('saved\\n');
         process.kill(process.pid, 'SIGKILL');`,
        path,
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(child.signal, 'SIGKILL', child.stderr);
    assert.equal(child.stdout, 'saved\n');

    const reopened = openStore(path);
    const repo = reopened.rollouts;
    assert.deepEqual(repo.get('r-1')?.state, roundTrip(steps[1]!.state));
    const expected = [...steps[0]!.effects.map((e, n) => ({ n, e })), ...steps[1]!.effects.map((e, i) => ({ n: steps[0]!.effects.length + i, e }))];
    const pending = repo.pendingEffects();
    assert.deepEqual(
      pending,
      expected.map(({ n, e }) => ({ rolloutId: 'r-1', n, effect: JSON.parse(JSON.stringify(e)) })),
    );
    // The shell carries out the first two, then crashes again: the rest stay pending, none come back.
    assert.equal(repo.markDone('r-1', 0), true);
    assert.equal(repo.markDone('r-1', 1), true);
    assert.equal(repo.markDone('r-1', 1), false, 'done once');
    assert.equal(repo.markDone('r-1', 99), false);
    reopened.close();
    const again = openStore(path);
    assert.deepEqual(again.rollouts.pendingEffects(), pending.slice(2));
    // The next step's effects get the next numbers (no reuse of done ones).
    again.rollouts.save('r-1', steps[2]!.state, newLines(steps, 2), steps[2]!.effects);
    assert.deepEqual(
      again.rollouts.pendingEffects().map((p) => p.n),
      [...pending.slice(2).map((p) => p.n), ...steps[2]!.effects.map((_, i) => expected.length + i)],
    );
    again.close();
  });

  it('keeps the freeze state per scope: streak, freeze (first reason wins), unfreeze resets both', () => {
    const { path, store } = freshStore('freeze.db');
    const repo = store.rollouts;
    assert.deepEqual(repo.freezeState('prod'), { scope: 'prod', rollbackStreak: 0, frozen: false, frozenAt: null, reason: null });
    repo.setRollbackStreak('prod', 1);
    repo.setRollbackStreak('prod', 2);
    repo.freeze('prod', '2 automatic rollbacks in a row', '2026-01-01T00:00:00.000Z');
    repo.freeze('prod', 'later', '2026-01-02T00:00:00.000Z');
    assert.throws(() => repo.setRollbackStreak('prod', -1), RangeError);
    store.close();
    const reopened = openStore(path);
    assert.deepEqual(reopened.rollouts.freezeState('prod'), {
      scope: 'prod',
      rollbackStreak: 2,
      frozen: true,
      frozenAt: '2026-01-01T00:00:00.000Z',
      reason: '2 automatic rollbacks in a row',
    });
    assert.equal(reopened.rollouts.freezeState('other').frozen, false);
    reopened.rollouts.unfreeze('prod');
    assert.deepEqual(reopened.rollouts.freezeState('prod'), { scope: 'prod', rollbackStreak: 0, frozen: false, frozenAt: null, reason: null });
    reopened.close();
  });
});
