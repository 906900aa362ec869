/**
 * ConfigSync end to end in one process: the control plane's real gRPC server
 * (controlplane/src/distribution) and the data plane's real client (dataplane/src/control) on
 * 127.0.0.1, with in-memory fakes of the ports (DistributionSource, NodeRecorder,
 * GenerationApplier). Lives in test/ because the planes may not import each other.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterEach, describe, it } from 'node:test';
import { canonicalJson, digest } from '@spooky/config';
import { MAX_MESSAGE_BYTES } from '@spooky/proto';
import pino from 'pino';
import { createDistributionServer } from '../../controlplane/src/distribution/distribution-server.ts';
import { FakeRecorder, FakeSource, generation, type RecordedEvent } from '../../controlplane/src/distribution/fake-distribution-ports.ts';
import type { DesiredGeneration } from '../../controlplane/src/distribution/ports.ts';
import { createControlClient } from '../../dataplane/src/control/control-client.ts';
import type {
  ApplyResult,
  GenerationApplier,
  GenerationRef,
  ServingSource,
} from '../../dataplane/src/control/generation-applier.ts';

const logger = pino({ level: process.env.SPOOKY_TEST_LOG ?? 'silent' });

/** Serves whatever applied last; rejects the digests the test names. */
class FakeApplier implements GenerationApplier {
  readonly applied: { ref: GenerationRef; payload: Uint8Array }[] = [];
  readonly rejects = new Map<string, ApplyResult>();
  #serving: { ref: GenerationRef; source: ServingSource } | null = null;

  serving() {
    return this.#serving;
  }
  async apply(payload: Uint8Array, ref: GenerationRef, source: ServingSource): Promise<ApplyResult> {
    this.applied.push({ ref, payload });
    const reject = this.rejects.get(ref.digest);
    if (reject) return reject;
    this.#serving = { ref, source };
    return { ok: true };
  }
  async hold(): Promise<ApplyResult> {
    return { ok: false, phase: 'apply', retryable: false, issues: [] };
  }
  async promote(): Promise<ApplyResult> {
    return { ok: false, phase: 'apply', retryable: true, issues: [] };
  }
  async dropCandidate(): Promise<void> {}
  callsFor(digestValue: string): number {
    return this.applied.filter((a) => a.ref.digest === digestValue).length;
  }
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Registers `stop` to run after the test and returns it made idempotent (a test may stop early). */
function stopAfterTest(stop: () => Promise<void>): () => Promise<void> {
  let done = false;
  const once = async () => {
    if (done) return;
    done = true;
    await stop();
  };
  cleanups.push(once);
  return once;
}

async function startServer(source: FakeSource, recorder: FakeRecorder, port = 0) {
  const server = createDistributionServer({ source, recorder, logger, reportIntervalMs: 40 });
  const bound = await server.listen('127.0.0.1', port);
  const shutdown = stopAfterTest(() => server.shutdown());
  return { port: bound, shutdown, server };
}

function startClient(port: number, applier: FakeApplier, bootId: string = randomUUID(), nodeId = 'node-1') {
  const client = createControlClient({
    address: `127.0.0.1:${port}`,
    nodeId,
    bootId,
    scope: 'prod',
    labels: { region: 'test' },
    schemaMin: 1,
    schemaMax: 1,
    build: 'test',
    applier,
    logger,
  });
  client.start();
  const stop = stopAfterTest(() => client.stop());
  return { stop };
}

const acked = (seq: number) => (ev: readonly RecordedEvent[]) => ev.some((e) => e.kind === 'acked' && e.seq === seq);

describe('ConfigSync: control-plane server ⇄ data-plane client', () => {
  it('Hello → Welcome → Push → Ack is recorded; an activation pushes the new generation', async () => {
    const source = new FakeSource();
    const recorder = new FakeRecorder();
    const applier = new FakeApplier();
    const g1 = generation('prod', 1);
    source.activate(g1);
    const { port } = await startServer(source, recorder);
    startClient(port, applier);

    await recorder.until(acked(1));
    assert.equal(recorder.events[0]?.kind, 'connected');
    assert.deepEqual(applier.serving()?.ref, { scope: 'prod', seq: 1, digest: g1.digest });
    assert.equal(applier.serving()?.source, 'control-plane');

    const g2 = generation('prod', 2);
    source.activate(g2);
    await recorder.until(acked(2));
    assert.deepEqual(
      applier.applied.map((a) => a.ref.seq),
      [1, 2],
    );
    // Reports carry what is served.
    await recorder.until((ev) => ev.some((e) => e.kind === 'reported' && e.digest === g2.digest));
  });

  it('a NACKed digest is parked for the boot: not re-sent across reports and reconnects; a new boot gets it', async () => {
    const source = new FakeSource();
    const recorder = new FakeRecorder();
    const applier = new FakeApplier();
    const bad = generation('prod', 7, { broken: true });
    applier.rejects.set(bad.digest, {
      ok: false,
      phase: 'compile',
      retryable: false,
      issues: [{ pointer: '/upstream', code: 'route.upstream.unknown', message: 'no such upstream' }],
    });
    source.activate(bad);
    const { port } = await startServer(source, recorder);
    const first = startClient(port, applier, 'boot-A');

    await recorder.until((ev) => ev.some((e) => e.kind === 'nacked' && e.phase === 'compile' && !e.retryable));
    const reportsAfterNack = recorder.count('reported');
    await recorder.until(() => recorder.count('reported') >= reportsAfterNack + 4);

    // Same boot reconnects (a new stream): still not re-sent.
    await first.stop();
    await recorder.until(() => recorder.count('disconnected') >= 1);
    const second = startClient(port, applier, 'boot-A');
    await recorder.until(() => recorder.count('connected') >= 2);
    const reportsAfterReconnect = recorder.count('reported');
    await recorder.until(() => recorder.count('reported') >= reportsAfterReconnect + 4);
    assert.equal(applier.callsFor(bad.digest), 1);
    assert.equal(recorder.count('nacked'), 1);

    // A restarted process (new boot id) is offered the digest again.
    await second.stop();
    const fresh = new FakeApplier();
    startClient(port, fresh, 'boot-B', 'node-1');
    await recorder.until(acked(7));
    assert.equal(fresh.callsFor(bad.digest), 1);
    assert.equal(applier.callsFor(bad.digest), 1);
  });

  it('a 9 MB generation arrives intact and digest-verified (zstd: one repeated letter travels as a few KB)', async () => {
    const source = new FakeSource();
    const recorder = new FakeRecorder();
    const applier = new FakeApplier();
    const big = generation('prod', 3, { blob: 'x'.repeat(9 * 1024 * 1024), tail: 'end' });
    assert.ok(big.payload.byteLength > 9 * 1024 * 1024);
    source.activate(big);
    const { port } = await startServer(source, recorder);
    startClient(port, applier);

    await recorder.until(acked(3), 5_000);
    const got = applier.applied[0];
    assert.ok(got);
    assert.equal(got.payload.byteLength, big.payload.byteLength);
    assert.equal(digest(got.payload), big.digest);
    assert.ok(Buffer.from(got.payload).equals(Buffer.from(big.payload)));
  });

  it('a 20 MB generation travels in chunks under the message limit and arrives intact (real configs are capped at 4 MiB)', async () => {
    // The config contract refuses documents over MAX_CONFIG_BYTES (4 MiB), so a real generation
    // never gets this big; this exercises the transfer layer alone (fake applier, no parseConfig).
    const source = new FakeSource();
    const recorder = new FakeRecorder();
    const applier = new FakeApplier();
    // Random hex: zstd halves it at best, so the encoded push still needs many chunks.
    const big = generation('prod', 20, { blob: randomBytes(10 * 1024 * 1024).toString('hex'), tail: 'end' });
    assert.ok(big.payload.byteLength > 20 * 1024 * 1024);
    source.activate(big);
    const lines: Record<string, unknown>[] = [];
    const capture = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const server = createDistributionServer({ source, recorder, logger: capture, reportIntervalMs: 40 });
    const port = await server.listen('127.0.0.1', 0);
    stopAfterTest(() => server.shutdown());
    startClient(port, applier);

    await recorder.until(acked(20), 15_000);
    assert.equal(applier.applied.length, 1);
    const got = applier.applied[0];
    assert.ok(got);
    assert.equal(got.payload.byteLength, big.payload.byteLength);
    assert.equal(digest(got.payload), big.digest);
    assert.ok(Buffer.from(got.payload).equals(Buffer.from(big.payload)));
    assert.equal(server.pushesSent('node-1'), 1);
    // The client listed zstd in its Hello: the push went encoded, in chunks under the message limit.
    const sent = lines.find((l) => l['msg'] === 'distribution: push sent');
    assert.equal(sent?.['encoding'], 'zstd');
    assert.ok(Number(sent?.['bytes']) > 2 * MAX_MESSAGE_BYTES && Number(sent?.['bytes']) < big.payload.byteLength, JSON.stringify(sent));
    assert.ok(Number(sent?.['messages']) > 4, 'many chunks');
  });

  it('a reconnect of the same boot to a restarted server that wants what it serves gets no push', async () => {
    const applier = new FakeApplier();
    const source = new FakeSource();
    const g1 = generation('prod', 1);
    source.activate(g1);
    const recorder1 = new FakeRecorder();
    const first = await startServer(source, recorder1);
    startClient(first.port, applier, 'boot-same');
    await recorder1.until(acked(1));
    await first.shutdown();

    const recorder2 = new FakeRecorder();
    const second = await startServer(source, recorder2, first.port);
    await recorder2.until((ev) => ev.some((e) => e.kind === 'connected' && e.bootId === 'boot-same'));
    await recorder2.until((ev) => ev.filter((e) => e.kind === 'reported' && e.digest === g1.digest).length >= 3);
    assert.equal(second.server.pushesSent('node-1'), 0);
    assert.equal(applier.callsFor(g1.digest), 1);
  });

  it('bytes that do not match the target digest are NACKed in phase "digest" and never applied', async () => {
    const source = new FakeSource();
    const recorder = new FakeRecorder();
    const applier = new FakeApplier();
    const lying: DesiredGeneration = {
      scope: 'prod',
      seq: 4,
      digest: digest(canonicalJson({ other: true })),
      payload: Buffer.from(canonicalJson({ actual: true })),
    };
    source.activate(lying);
    const { port } = await startServer(source, recorder);
    startClient(port, applier);

    await recorder.until((ev) => ev.some((e) => e.kind === 'nacked' && e.phase === 'digest' && e.retryable));
    assert.equal(applier.applied.length, 0);
    assert.equal(applier.serving(), null);
  });

  it('after a server shutdown (GoAway) the client reconnects to a new server on the same port and converges', async () => {
    const applier = new FakeApplier();
    const source1 = new FakeSource();
    const recorder1 = new FakeRecorder();
    source1.activate(generation('prod', 1));
    const first = await startServer(source1, recorder1);
    startClient(first.port, applier, 'boot-X');
    await recorder1.until(acked(1));

    await first.shutdown();
    await recorder1.until((ev) => ev.some((e) => e.kind === 'disconnected'));
    // The data plane keeps serving while the control plane is away.
    assert.equal(applier.serving()?.ref.seq, 1);

    const source2 = new FakeSource();
    const recorder2 = new FakeRecorder();
    const g2 = generation('prod', 2);
    source2.activate(g2);
    await startServer(source2, recorder2, first.port);
    await recorder2.until(acked(2), 5_000);
    assert.equal(applier.serving()?.ref.digest, g2.digest);
  });
});
