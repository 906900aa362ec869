/**
 * The fleet applier's candidate half: a candidate is held only when every worker holds it; a
 * refusal or a death in one drops it in all; a worker that joins holds it too; promote moves
 * every worker; the journal records and clears the crash-window record.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ApplyJournal } from '../cache/apply-journal.ts';
import type { ApplyResult, GenerationRef } from '../control/generation-applier.ts';
import type { CanaryAssignment } from '../rollout/in-node-canary.ts';
import { capturedLogger } from '../testing/captured-logger.ts';
import { createFleetApplier } from './fleet-applier.ts';
import { WorkerGoneError, type WorkerHandle } from './worker-handle.ts';

/** A scripted worker: `serving` and `candidate` are what it committed (seq numbers). */
class FakeWorker implements WorkerHandle {
  readonly slot: number;
  readonly pid: number;
  readonly gone: Promise<void>;
  serving: number | null = null;
  candidate: number | null = null;
  killed = false;
  refuseHold = false;
  dieOnCommit = false;
  #prepared: { seq: number; hold: boolean } | null = null;
  #die: () => void = () => undefined;
  #dead = false;

  constructor(slot: number) {
    this.slot = slot;
    this.pid = 2000 + slot;
    this.gone = new Promise((resolve) => {
      this.#die = resolve;
    });
  }
  async prepare(_p: Uint8Array, ref: GenerationRef, _s: string, _t: number, canary?: CanaryAssignment): Promise<ApplyResult> {
    if (canary !== undefined && this.refuseHold) return { ok: false, phase: 'compile', retryable: false, issues: [{ pointer: '', code: 'x', message: 'no' }] };
    this.#prepared = { seq: ref.seq, hold: canary !== undefined };
    return { ok: true };
  }
  async commit(): Promise<void> {
    if (this.#dead) throw new WorkerGoneError(this.pid);
    if (this.dieOnCommit && this.#prepared?.hold) {
      this.kill();
      throw new WorkerGoneError(this.pid);
    }
    const p = this.#prepared;
    this.#prepared = null;
    if (p === null) return;
    if (p.hold) this.candidate = p.seq;
    else {
      this.serving = p.seq;
      this.candidate = null;
    }
  }
  async abort(): Promise<void> {
    this.#prepared = null;
  }
  async promote(): Promise<ApplyResult> {
    if (this.candidate === null) return { ok: false, phase: 'apply', retryable: true, issues: [] };
    this.serving = this.candidate;
    this.candidate = null;
    return { ok: true };
  }
  async dropCandidate(): Promise<void> {
    if (this.#dead) throw new WorkerGoneError(this.pid);
    this.candidate = null;
  }
  status = async () => ({ serving: null, listeners: [], healthUnreadyReason: null, logLevel: 'info' });
  metrics = async () => [];
  counters = () => ({ requestsTotal: 0, inflight: 0 });
  kill(): void {
    this.killed = true;
    this.#dead = true;
    this.#die();
  }
}

function journal(): ApplyJournal & { records: string[] } {
  const records: string[] = [];
  return {
    records,
    refusal: () => null,
    begin: async () => undefined,
    end: async () => undefined,
    refuse: () => undefined,
    holdCandidate: async (r, ms) => {
      records.push(`hold ${r.seq} ${ms}`);
    },
    cleanStop: async () => undefined,
    clearCandidate: async () => {
      records.push('clear');
    },
  };
}

const ref = (seq: number): GenerationRef => ({ scope: 's', seq, digest: `sha256:${seq}` });
const payload = Buffer.from('{}');
const canary = (seq: number): CanaryAssignment => ({ candidateDigest: `sha256:${seq}`, percent: 5, crashWindowMs: 30_000 });

async function fleetOf(n: number) {
  const { logger } = capturedLogger('info');
  const j = journal();
  const clock = { ms: 1_000_000 };
  const crashes: { seq: number; code: string | undefined }[] = [];
  const fleet = createFleetApplier({
    logger,
    journal: j,
    now: () => clock.ms,
    onCandidateCrash: (r, issues) => crashes.push({ seq: r.seq, code: issues[0]?.code }),
  });
  const workers = Array.from({ length: n }, (_, i) => new FakeWorker(i));
  for (const w of workers) assert.equal((await fleet.join(w)).ok, true);
  assert.equal((await fleet.apply(payload, ref(1), 'control-plane')).ok, true);
  return { fleet, workers, j, clock, crashes };
}

describe('fleet applier: candidates', () => {
  it('holds on every worker, reports it, records it; promote moves all and clears the record', async () => {
    const { fleet, workers, j } = await fleetOf(3);
    assert.deepEqual(await fleet.hold(payload, ref(2), canary(2)), { ok: true });
    assert.deepEqual(
      workers.map((w) => [w.serving, w.candidate]),
      [
        [1, 2],
        [1, 2],
        [1, 2],
      ],
    );
    assert.deepEqual(fleet.serving(), { ref: ref(1), source: 'control-plane', candidate: { ref: ref(2), percent: 5 } });
    assert.deepEqual(j.records, ['hold 2 30000']);
    assert.deepEqual(await fleet.promote(), { ok: true });
    assert.deepEqual(
      workers.map((w) => [w.serving, w.candidate]),
      [
        [2, null],
        [2, null],
        [2, null],
      ],
    );
    assert.deepEqual(fleet.serving(), { ref: ref(2), source: 'control-plane' });
    assert.deepEqual(j.records, ['hold 2 30000', 'clear']);
  });

  it('one worker refusing the candidate: nobody holds it', async () => {
    const { fleet, workers, j } = await fleetOf(3);
    (workers[1] as FakeWorker).refuseHold = true;
    const result = await fleet.hold(payload, ref(2), canary(2));
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.phase, 'compile');
    assert.deepEqual(
      workers.map((w) => w.candidate),
      [null, null, null],
    );
    assert.deepEqual(fleet.serving(), { ref: ref(1), source: 'control-plane' });
    assert.deepEqual(j.records, []);
  });

  it('a worker dying while committing the hold: dropped in all, refused as crashed', async () => {
    const { fleet, workers } = await fleetOf(3);
    (workers[2] as FakeWorker).dieOnCommit = true;
    const result = await fleet.hold(payload, ref(2), canary(2));
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.issues[0]?.code, 'generation.crashed_while_applying');
    assert.deepEqual(
      workers.slice(0, 2).map((w) => w.candidate),
      [null, null],
    );
    assert.equal(fleet.serving()?.candidate, undefined);
  });

  it('a worker replaced after the crash window holds the candidate too; drop clears every worker', async () => {
    const { fleet, workers, j, clock, crashes } = await fleetOf(1);
    await fleet.hold(payload, ref(2), canary(2));
    clock.ms += 30_000;
    const late = new FakeWorker(1);
    assert.equal((await fleet.join(late)).ok, true);
    assert.deepEqual([late.serving, late.candidate], [1, 2]);
    await fleet.dropCandidate();
    assert.deepEqual(
      [...workers, late].map((w) => w.candidate),
      [null, null],
    );
    assert.deepEqual(fleet.serving(), { ref: ref(1), source: 'control-plane' });
    assert.deepEqual(j.records, ['hold 2 30000', 'clear']);
    assert.deepEqual(crashes, []);
  });

  it('a worker replaced within the crash window: the candidate is dropped on all and reported as crashed', async () => {
    const { fleet, workers, j, clock, crashes } = await fleetOf(2);
    await fleet.hold(payload, ref(2), canary(2));
    clock.ms += 29_999;
    (workers[1] as FakeWorker).kill();
    const replacement = new FakeWorker(1);
    assert.equal((await fleet.join(replacement)).ok, true, 'the replacement serves N');
    assert.deepEqual([replacement.serving, replacement.candidate], [1, null]);
    assert.equal((workers[0] as FakeWorker).candidate, null);
    assert.deepEqual(crashes, [{ seq: 2, code: 'canary.crashed' }]);
    assert.deepEqual(fleet.serving(), { ref: ref(1), source: 'control-plane' });
    assert.deepEqual(j.records, ['hold 2 30000', 'clear']);
  });

  it('a SERVE apply drops the candidate and clears the record', async () => {
    const { fleet, workers, j } = await fleetOf(2);
    await fleet.hold(payload, ref(2), canary(2));
    assert.deepEqual(await fleet.apply(payload, ref(3), 'control-plane'), { ok: true });
    assert.deepEqual(
      workers.map((w) => [w.serving, w.candidate]),
      [
        [3, null],
        [3, null],
      ],
    );
    assert.deepEqual(j.records, ['hold 2 30000', 'clear']);
  });
});
