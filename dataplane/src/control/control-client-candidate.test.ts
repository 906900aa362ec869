/**
 * The control client's candidate half against an in-process ConfigSync server
 * (testing/fake-config-sync.ts, real grpc-js on 127.0.0.1): CANDIDATE pushes are held and
 * ACKed as candidates, Promote promotes or drops, Hello/Report carry the candidate, and the
 * canary NACKs (fallBack, nackCandidate) wait for a Hello and stick for the boot.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { canonicalJson, digest } from '@spooky/config';
import type { Ack, FromDataPlane, Hello, Nack, Report } from '@spooky/proto';
import pino from 'pino';
import type { CanaryAssignment } from '../rollout/in-node-canary.ts';
import { type FakeConfigSync, pushOf, startFakeConfigSync, wireCanary } from '../testing/fake-config-sync.ts';
import { type ControlClient, createControlClient } from './control-client.ts';
import type { ApplyResult, GenerationApplier, GenerationRef, ServingInfo, ServingSource } from './generation-applier.ts';

const logger = pino({ level: process.env.SPOOKY_TEST_LOG ?? 'silent' });

class FakeApplier implements GenerationApplier {
  readonly calls: string[] = [];
  #serving: { ref: GenerationRef; source: ServingSource } | null = null;
  #candidate: { ref: GenerationRef; percent: number } | null = null;
  serving(): ServingInfo | null {
    if (this.#serving === null) return null;
    return this.#candidate === null ? this.#serving : { ...this.#serving, candidate: this.#candidate };
  }
  async apply(_p: Uint8Array, ref: GenerationRef, source: ServingSource): Promise<ApplyResult> {
    this.calls.push(`apply ${ref.seq}`);
    this.#serving = { ref, source };
    this.#candidate = null;
    return { ok: true };
  }
  async hold(_p: Uint8Array, ref: GenerationRef, canary: CanaryAssignment): Promise<ApplyResult> {
    this.calls.push(`hold ${ref.seq} ${canary.percent} ${canary.crashWindowMs}`);
    this.#candidate = { ref, percent: canary.percent };
    return { ok: true };
  }
  async promote(): Promise<ApplyResult> {
    this.calls.push('promote');
    if (this.#candidate === null) return { ok: false, phase: 'apply', retryable: true, issues: [] };
    this.#serving = { ref: this.#candidate.ref, source: 'control-plane' };
    this.#candidate = null;
    return { ok: true };
  }
  async dropCandidate(): Promise<void> {
    this.calls.push('drop');
    this.#candidate = null;
  }
}

function gen(seq: number) {
  const text = canonicalJson({ version: 1, seq });
  return { ref: { scope: 'prod', seq, digest: digest(text) }, payload: Buffer.from(text) };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(): Promise<{ sync: FakeConfigSync; applier: FakeApplier; client: ControlClient }> {
  const sync = await startFakeConfigSync();
  cleanups.push(() => sync.close());
  const applier = new FakeApplier();
  const client = createControlClient({
    address: `127.0.0.1:${sync.port}`,
    nodeId: 'n1',
    bootId: 'b1',
    scope: 'prod',
    labels: {},
    schemaMin: 1,
    schemaMax: 1,
    build: 'test',
    applier,
    logger,
  });
  cleanups.push(() => client.stop());
  return { sync, applier, client };
}

const hellos = (r: readonly FromDataPlane[]): Hello[] => r.flatMap((m) => (m.msg?.$case === 'hello' ? [m.msg.value] : []));
const acks = (r: readonly FromDataPlane[]): Ack[] => r.flatMap((m) => (m.msg?.$case === 'ack' ? [m.msg.value] : []));
const nacks = (r: readonly FromDataPlane[]): Nack[] => r.flatMap((m) => (m.msg?.$case === 'nack' ? [m.msg.value] : []));
const reports = (r: readonly FromDataPlane[]): Report[] => r.flatMap((m) => (m.msg?.$case === 'report' ? [m.msg.value] : []));

describe('control client: candidates', () => {
  it('holds a CANDIDATE push (Ack.candidate), reports it, promotes it on Promote', async () => {
    const { sync, applier, client } = await setup();
    client.start();
    await sync.until('hello', (r) => hellos(r).length === 1);
    const n = gen(1);
    const c = gen(2);
    sync.send(pushOf('p1', n.ref, n.payload));
    await sync.until('ack of N', (r) => acks(r).length === 1);
    sync.send(pushOf('p2', c.ref, c.payload, wireCanary(5, 30_000)));
    await sync.until('ack of N+1', (r) => acks(r).length === 2);
    assert.deepEqual(
      acks(sync.received).map((a) => [a.nonce, a.applied?.seq, a.candidate]),
      [
        ['p1', 1, false],
        ['p2', 2, true],
      ],
    );
    assert.deepEqual(applier.calls, ['apply 1', 'hold 2 5 30000']);
    await sync.until('a report with the candidate', (r) => reports(r).some((x) => x.candidate?.digest === c.ref.digest && x.candidatePercent === 5));
    // A reconnect's Hello names the candidate beside what is served.
    sync.dropStream();
    await sync.until('a second hello', (r) => hellos(r).length === 2);
    const hello = hellos(sync.received)[1];
    assert.equal(hello?.serving?.digest, n.ref.digest);
    assert.equal(hello?.candidate?.digest, c.ref.digest);
    assert.equal(hello?.candidatePercent, 5);

    sync.send({ msg: { $case: 'promote', value: { nonce: 'pr', target: c.ref } } });
    await sync.until('ack of the promote', (r) => acks(r).some((a) => a.nonce === 'pr'));
    assert.deepEqual(applier.serving(), { ref: c.ref, source: 'control-plane' });
    assert.equal(acks(sync.received).find((a) => a.nonce === 'pr')?.candidate, false);
  });

  it('Promote of the serving generation drops the candidate; of anything else NACKs phase transfer, retryable', async () => {
    const { sync, applier, client } = await setup();
    client.start();
    await sync.until('hello', (r) => hellos(r).length === 1);
    const n = gen(1);
    const c = gen(2);
    sync.send(pushOf('p1', n.ref, n.payload));
    sync.send(pushOf('p2', c.ref, c.payload, wireCanary(10, 1_000)));
    await sync.until('two acks', (r) => acks(r).length === 2);
    sync.send({ msg: { $case: 'promote', value: { nonce: 'back', target: n.ref } } });
    await sync.until('ack of the rollback', (r) => acks(r).some((a) => a.nonce === 'back'));
    assert.deepEqual(applier.serving(), { ref: n.ref, source: 'control-plane' });
    assert.ok(applier.calls.includes('drop'));

    sync.send({ msg: { $case: 'promote', value: { nonce: 'x', target: gen(9).ref } } });
    await sync.until('nack of the unknown promote', (r) => nacks(r).some((x) => x.nonce === 'x'));
    const refused = nacks(sync.received).find((x) => x.nonce === 'x');
    assert.equal(refused?.phase, 'transfer');
    assert.equal(refused?.retryable, true);
    assert.equal(refused?.stillServing?.digest, n.ref.digest);
  });

  it('fallBack drops the candidate and NACKs it (phase canary, the numbers) after the next Hello; a re-push gets the same NACK', async () => {
    const { sync, applier, client } = await setup();
    client.start();
    await sync.until('hello', (r) => hellos(r).length === 1);
    const n = gen(1);
    const c = gen(2);
    sync.send(pushOf('p1', n.ref, n.payload));
    sync.send(pushOf('p2', c.ref, c.payload, wireCanary(5, 30_000)));
    await sync.until('two acks', (r) => acks(r).length === 2);
    // The control plane is unreachable when the canary trips.
    await sync.close();
    client.fallBack(c.ref.digest, [{ rule: 'error_ratio', observed: 0.2, limit: 0.05 }]);
    // A digest no longer held: a no-op.
    client.fallBack(gen(7).ref.digest, [{ rule: 'error_ratio', observed: 1, limit: 0 }]);

    const back = await startFakeConfigSync({ port: sync.port });
    cleanups.push(() => back.close());
    await back.until('a canary nack after the hello', (r) => nacks(r).length === 1);
    const first = back.received.findIndex((m) => m.msg?.$case === 'hello');
    const nackAt = back.received.findIndex((m) => m.msg?.$case === 'nack');
    assert.ok(first >= 0 && first < nackAt, 'the NACK follows the Hello');
    const hello = hellos(back.received)[0];
    assert.equal(hello?.candidate, undefined, 'the Hello no longer names the candidate');
    assert.equal(hello?.serving?.digest, n.ref.digest);
    const nack = nacks(back.received)[0];
    assert.equal(nack?.nonce, 'p2');
    assert.equal(nack?.phase, 'canary');
    assert.equal(nack?.retryable, false);
    assert.equal(nack?.rejected?.digest, c.ref.digest);
    assert.equal(nack?.stillServing?.digest, n.ref.digest);
    assert.equal(nack?.issues[0]?.code, 'canary.error_ratio');
    assert.match(nack?.issues[0]?.message ?? '', /0\.2.*0\.05/);
    assert.deepEqual(applier.calls, ['apply 1', 'hold 2 5 30000', 'drop']);

    // The control plane pushes it again as a candidate: the same NACK, never held again.
    back.send(pushOf('p3', c.ref, c.payload, wireCanary(5, 30_000)));
    await back.until('the second nack', (r) => nacks(r).length === 2);
    const again = nacks(back.received)[1];
    assert.equal(again?.nonce, 'p3');
    assert.equal(again?.phase, 'canary');
    assert.equal(again?.issues[0]?.code, 'canary.error_ratio');
    assert.deepEqual(applier.calls, ['apply 1', 'hold 2 5 30000', 'drop']);
  });

  it('nackCandidate (crash window at start) is sent right after the first Hello', async () => {
    const { sync, client } = await setup();
    const c = gen(2);
    client.nackCandidate(c.ref, [{ pointer: '', code: 'canary.crashed', message: 'restarted 5 ms after holding it' }]);
    client.start();
    await sync.until('the nack', (r) => nacks(r).length === 1);
    assert.equal(sync.received[0]?.msg?.$case, 'hello');
    assert.equal(sync.received[1]?.msg?.$case, 'nack');
    const nack = nacks(sync.received)[0];
    assert.equal(nack?.phase, 'canary');
    assert.equal(nack?.retryable, false);
    assert.equal(nack?.rejected?.digest, c.ref.digest);
    assert.equal(nack?.issues[0]?.code, 'canary.crashed');
  });
});
