import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConfigIssue } from '@spooky/config';
import type { ApplyJournal } from '../cache/apply-journal.ts';
import { CRASHED_CODE } from '../cache/apply-journal.ts';
import type { ApplyResult, GenerationRef } from '../control/generation-applier.ts';
import { capturedLogger } from '../testing/captured-logger.ts';
import { createFleetApplier } from './fleet-applier.ts';
import { WorkerGoneError, type WorkerHandle, WorkerTimeoutError } from './worker-handle.ts';

/** A scripted worker: `onPrepare` decides each prepare's fate; `serving` is what it committed. */
class FakeWorker implements WorkerHandle {
  readonly slot: number;
  readonly pid: number;
  readonly gone: Promise<void>;
  serving: number | null = null;
  prepared: number | null = null;
  killed = false;
  onPrepare: (seq: number) => ApplyResult | 'die' | 'hang' = () => ({ ok: true });
  onCommit: () => 'ok' | 'die' = () => 'ok';
  #die: () => void = () => undefined;
  #dead = false;

  constructor(slot: number) {
    this.slot = slot;
    this.pid = 1000 + slot;
    this.gone = new Promise((resolve) => {
      this.#die = resolve;
    });
  }
  die(): void {
    this.#dead = true;
    this.#die();
  }
  async prepare(_payload: Uint8Array, ref: GenerationRef, _source: string, timeoutMs: number): Promise<ApplyResult> {
    const fate = this.onPrepare(ref.seq);
    if (fate === 'die') {
      this.die();
      throw new WorkerGoneError(this.pid);
    }
    if (fate === 'hang') throw new WorkerTimeoutError(this.pid, 'prepare', timeoutMs);
    if (fate.ok) this.prepared = ref.seq;
    return fate;
  }
  async commit(): Promise<void> {
    if (this.#dead) throw new WorkerGoneError(this.pid);
    if (this.onCommit() === 'die') {
      this.die();
      throw new WorkerGoneError(this.pid);
    }
    this.serving = this.prepared;
    this.prepared = null;
  }
  async abort(): Promise<void> {
    this.prepared = null;
  }
  async promote(): Promise<ApplyResult> {
    return { ok: true };
  }
  async dropCandidate(): Promise<void> {}
  status = async () => ({ serving: null, listeners: [], healthUnreadyReason: null, logLevel: 'info' });
  metrics = async () => [];
  counters = () => ({ requestsTotal: 0, inflight: 0 });
  kill(): void {
    this.killed = true;
    this.die();
  }
}

const ref = (seq: number): GenerationRef => ({ scope: 's', seq, digest: `sha256:${seq}` });
const payload = Buffer.from('{}');

function memoryJournal(): ApplyJournal & { refused: Set<string>; begun: number; ended: number } {
  const refused = new Set<string>();
  const j = {
    refused,
    begun: 0,
    ended: 0,
    refusal: (r: GenerationRef): ConfigIssue | null => (refused.has(r.digest) ? { pointer: '', code: CRASHED_CODE, message: 'crashed' } : null),
    begin: async () => {
      j.begun++;
    },
    end: async () => {
      j.ended++;
    },
    refuse: (r: GenerationRef) => {
      refused.add(r.digest);
    },
    holdCandidate: async () => undefined,
    cleanStop: async () => undefined,
    clearCandidate: async () => undefined,
  };
  return j;
}

async function fleetOf(n: number) {
  const { logger, lines } = capturedLogger('info');
  const journal = memoryJournal();
  const fleet = createFleetApplier({ logger, journal });
  const workers = Array.from({ length: n }, (_, i) => new FakeWorker(i));
  for (const w of workers) assert.equal((await fleet.join(w)).ok, true);
  return { fleet, workers, journal, lines };
}

describe('fleet applier', () => {
  it('acks only after every worker prepared and committed; one marker per apply', async () => {
    const { fleet, workers, journal, lines } = await fleetOf(3);
    assert.deepEqual(await fleet.apply(payload, ref(1), 'control-plane'), { ok: true });
    assert.deepEqual(workers.map((w) => w.serving), [1, 1, 1]);
    assert.equal(fleet.serving()?.ref.seq, 1);
    assert.equal(journal.begun, 1);
    assert.equal(journal.ended, 1);
    assert.ok(lines.some((l) => l['msg'] === 'generation applied by all workers' && (l['workers'] as number[]).length === 3));
  });

  it('a worker refusing: the others drop it, the refusal is the answer, the old generation stays', async () => {
    const { fleet, workers } = await fleetOf(2);
    await fleet.apply(payload, ref(1), 'control-plane');
    const no: ApplyResult = { ok: false, phase: 'compile', retryable: false, issues: [{ pointer: '/x', code: 'c', message: 'm' }] };
    (workers[1] as FakeWorker).onPrepare = () => no;
    assert.deepEqual(await fleet.apply(payload, ref(2), 'control-plane'), no);
    assert.deepEqual(workers.map((w) => [w.serving, w.prepared]), [[1, null], [1, null]]);
    assert.equal(fleet.serving()?.ref.seq, 1);
  });

  it('a worker dying in prepare: refused for good (not retryable), the others keep the old one, the replacement joins on it', async () => {
    const { fleet, workers, journal } = await fleetOf(2);
    await fleet.apply(payload, ref(1), 'control-plane');
    (workers[0] as FakeWorker).onPrepare = (seq) => (seq === 2 ? 'die' : { ok: true });
    const r = await fleet.apply(payload, ref(2), 'control-plane');
    assert.equal(r.ok, false);
    assert.ok(!r.ok && r.retryable === false && r.issues[0]?.code === CRASHED_CODE);
    assert.ok(journal.refused.has('sha256:2'));
    assert.equal((workers[1] as FakeWorker).serving, 1);
    assert.equal(fleet.workers().length, 1);
    const replacement = new FakeWorker(0);
    assert.equal((await fleet.join(replacement)).ok, true);
    assert.equal(replacement.serving, 1);
    assert.equal(fleet.workers().length, 2);
    // The same generation again is refused without asking anyone.
    const again = await fleet.apply(payload, ref(2), 'control-plane');
    assert.ok(!again.ok && again.issues[0]?.code === CRASHED_CODE);
    assert.equal(replacement.prepared, null);
  });

  it('a worker dying in commit: refused, and the workers that switched go back to the previous generation', async () => {
    const { fleet, workers } = await fleetOf(2);
    await fleet.apply(payload, ref(1), 'control-plane');
    (workers[1] as FakeWorker).onCommit = () => 'die';
    const r = await fleet.apply(payload, ref(2), 'control-plane');
    assert.ok(!r.ok && r.issues[0]?.code === CRASHED_CODE);
    assert.equal((workers[0] as FakeWorker).serving, 1, 'restored');
    assert.equal(fleet.serving()?.ref.seq, 1);
  });

  it('a worker that stops answering is killed and counted as a crash', async () => {
    const { fleet, workers } = await fleetOf(2);
    (workers[0] as FakeWorker).onPrepare = () => 'hang';
    const r = await fleet.apply(payload, ref(1), 'control-plane');
    assert.ok(!r.ok && r.issues[0]?.code === CRASHED_CODE);
    assert.equal((workers[0] as FakeWorker).killed, true);
    assert.equal(fleet.serving(), null);
  });

  it('no worker joined: refused, retryable; the same generation from the same source is a no-op', async () => {
    const { logger } = capturedLogger('info');
    const empty = createFleetApplier({ logger });
    const r = await empty.apply(payload, ref(1), 'local-file');
    assert.ok(!r.ok && r.retryable && r.issues[0]?.code === 'apply.no_workers');
    const { fleet, workers } = await fleetOf(1);
    await fleet.apply(payload, ref(1), 'control-plane');
    (workers[0] as FakeWorker).onPrepare = () => {
      throw new Error('must not be asked');
    };
    assert.deepEqual(await fleet.apply(payload, ref(1), 'control-plane'), { ok: true });
  });

  it('a joining worker that refuses the served generation is killed', async () => {
    const { fleet } = await fleetOf(1);
    await fleet.apply(payload, ref(1), 'control-plane');
    const odd = new FakeWorker(1);
    odd.onPrepare = () => ({ ok: false, phase: 'apply', retryable: true, issues: [] });
    assert.equal((await fleet.join(odd)).ok, false);
    assert.equal(odd.killed, true);
    assert.equal(fleet.workers().length, 1);
  });
});
