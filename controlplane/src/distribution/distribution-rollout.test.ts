/**
 * Per-node rollout state over real gRPC on 127.0.0.1: the server follows each node's
 * assignment (a fake NodeAssignments), sends candidates as Push CANDIDATE with the canary
 * numbers, serves held generations by Promote, falls back to a push when a Promote is refused,
 * and hands Report health windows to the sink (malformed ones dropped and counted).
 *
 * "Never receives X" is checked by order, not by waiting: messages of one stream arrive in the
 * order they were sent, so a later, known message arriving first proves X was not sent before it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ClientDuplexStream, credentials } from '@grpc/grpc-js';
import {
  ConfigSyncClient,
  type FromControlPlane,
  type FromDataPlane,
  type GenerationHealth,
  LATENCY_BUCKET_BOUNDS_MS,
  type Push,
  PushMode,
  ServingSource,
  type GenerationRef as WireRef,
} from '@spooky/proto';
import pino from 'pino';
import { Registry } from 'prom-client';
import { createDistributionServer } from './distribution-server.ts';
import { FakeAssignments, FakeHealthSink, FakeRecorder, FakeSource, generation } from './fake-distribution-ports.ts';
import type { CanarySpec, DesiredGeneration } from './ports.ts';

const SCOPE = 'prod';
const logger = pino({ level: 'silent' });
const canary: CanarySpec = { percent: 5, crashWindowMs: 120_000, minRequests: 200, maxErrorRatio: 0.05, maxErrorIncrease: 0.01, maxP99Factor: 1.5, minP99IncreaseMs: 20 };
const wire = (g: DesiredGeneration): WireRef => ({ scope: g.scope, seq: g.seq, digest: g.digest });

/** A bare protocol node: sends what the test says, and yields what the server sends, with bounded waits. */
class TestNode {
  readonly #stream: ClientDuplexStream<FromDataPlane, FromControlPlane>;
  readonly #queue: FromControlPlane[] = [];
  readonly #waiters: ((m: FromControlPlane) => void)[] = [];
  readonly nodeId: string;

  constructor(client: ConfigSyncClient, nodeId: string, serving: DesiredGeneration | null, candidate: DesiredGeneration | null = null, percent = 0) {
    this.nodeId = nodeId;
    this.#stream = client.session();
    this.#stream.on('error', () => undefined);
    this.#stream.on('data', (m: FromControlPlane) => {
      const w = this.#waiters.shift();
      if (w) w(m);
      else this.#queue.push(m);
    });
    this.#send({
      $case: 'hello',
      value: {
        nodeId,
        bootId: `${nodeId}-boot`,
        scope: SCOPE,
        labels: {},
        schemaMin: 1,
        schemaMax: 1,
        build: 'test',
        serving: serving ? wire(serving) : undefined,
        source: serving ? ServingSource.SERVING_SOURCE_CONTROL_PLANE : ServingSource.SERVING_SOURCE_NONE,
        acceptEncodings: [],
        candidate: candidate ? wire(candidate) : undefined,
        candidatePercent: percent,
      },
    });
  }

  /** The next message from the server; rejects when none comes within `timeoutMs`. */
  next(timeoutMs = 5_000): Promise<FromControlPlane> {
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(new Error(`${this.nodeId}: no message within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (m: FromControlPlane): void => {
        clearTimeout(timer);
        resolve(m);
      };
      this.#waiters.push(waiter);
    });
  }

  async welcome(): Promise<void> {
    assert.equal((await this.next()).msg?.$case, 'welcome');
  }

  async push(): Promise<Push> {
    const m = (await this.next()).msg;
    assert.ok(m?.$case === 'push', `${this.nodeId}: expected a push, got ${m?.$case}`);
    return m.value;
  }

  async promote(): Promise<{ nonce: string; target: WireRef | undefined }> {
    const m = (await this.next()).msg;
    assert.ok(m?.$case === 'promote', `${this.nodeId}: expected a promote, got ${m?.$case}`);
    return m.value;
  }

  ack(nonce: string, applied: DesiredGeneration, candidate: boolean): void {
    this.#send({ $case: 'ack', value: { nonce, applied: wire(applied), servingAtUnixMs: Date.now(), candidate } });
  }

  nack(nonce: string, rejected: DesiredGeneration, stillServing: DesiredGeneration, phase: string, retryable: boolean): void {
    this.#send({ $case: 'nack', value: { nonce, rejected: wire(rejected), stillServing: wire(stillServing), phase, retryable, issues: [] } });
  }

  report(serving: DesiredGeneration, candidate: DesiredGeneration | null, percent: number, generationHealth: GenerationHealth[] = []): void {
    this.#send({
      $case: 'report',
      value: {
        serving: wire(serving),
        source: ServingSource.SERVING_SOURCE_CONTROL_PLANE,
        requestsTotal: 0,
        inflight: 0,
        atUnixMs: Date.now(),
        candidate: candidate ? wire(candidate) : undefined,
        candidatePercent: percent,
        generationHealth,
      },
    });
  }

  close(): void {
    this.#stream.cancel();
  }

  #send(msg: FromDataPlane['msg']): void {
    this.#stream.write({ msg });
  }
}

describe('distribution server: per-node rollout state', () => {
  const source = new FakeSource();
  const recorder = new FakeRecorder();
  const assignments = new FakeAssignments();
  const health = new FakeHealthSink();
  const metricsRegistry = new Registry();
  const server = createDistributionServer({ source, recorder, logger, reportIntervalMs: 60_000, assignments, health, metricsRegistry });
  const g1 = generation(SCOPE, 1, { seq: 1, name: 'lkg' });
  const g2 = generation(SCOPE, 2, { seq: 2, name: 'candidate' });
  const g3 = generation(SCOPE, 3, { seq: 3, name: 'next' });
  let client: ConfigSyncClient | undefined;
  const nodes: TestNode[] = [];
  const connect = (id: string, serving: DesiredGeneration | null, candidate: DesiredGeneration | null = null, percent = 0): TestNode => {
    if (!client) throw new Error('suite not started');
    const node = new TestNode(client, id, serving, candidate, percent);
    nodes.push(node);
    return node;
  };

  before(async () => {
    source.activate(g1);
    source.store(g2);
    source.store(g3);
    const port = await server.listen('127.0.0.1', 0);
    client = new ConfigSyncClient(`127.0.0.1:${port}`, credentials.createInsecure());
  });
  after(async () => {
    for (const node of nodes) node.close();
    client?.close();
    await server.shutdown();
  });

  it('a candidate push carries mode CANDIDATE and the canary numbers; its ACK is recorded as a candidate; a serve of it is a Promote', async () => {
    assignments.set(SCOPE, 'node-c', { kind: 'candidate', seq: 2, canary });
    const node = connect('node-c', g1);
    await node.welcome();
    const push = await node.push();
    assert.equal(push.mode, PushMode.PUSH_MODE_CANDIDATE);
    assert.deepEqual(push.canary, canary);
    assert.deepEqual(push.target, wire(g2));
    assert.deepEqual(Buffer.from(push.payload), Buffer.from(g2.payload));
    assert.equal(server.generationSnapshotsHeld().generations, 1, 'the non-active target is held once');
    node.ack(push.nonce, g2, true);
    await recorder.until((events) => events.some((e) => e.kind === 'acked' && e.nodeId === 'node-c' && e.candidate === true));

    // The rollout promotes the node: it holds seq 2, so it gets a Promote without payload.
    assignments.set(SCOPE, 'node-c', { kind: 'serve', seq: 2 });
    const promote = await node.promote();
    assert.deepEqual(promote.target, wire(g2));
    node.ack(promote.nonce, g2, false);
    await recorder.until((events) => events.some((e) => e.kind === 'acked' && e.nodeId === 'node-c' && e.digest === g2.digest && e.candidate === undefined));
    assert.equal(server.pushesSent('node-c'), 2, 'the Promote counts like a push');

    // Back to following the active generation: serving seq 2 fully, so seq 1 is pushed again.
    assignments.set(SCOPE, 'node-c', null);
    const back = await node.push();
    assert.equal(back.mode, PushMode.PUSH_MODE_SERVE);
    assert.deepEqual(back.target, wire(g1));
    assert.equal(server.generationSnapshotsHeld().generations, 0, 'no session names seq 2: its snapshot is dropped');
    node.ack(back.nonce, g1, false);
  });

  it('a node without an assignment never receives the candidate', async () => {
    assignments.set(SCOPE, 'node-x', { kind: 'candidate', seq: 2, canary });
    const canaryNode = connect('node-x', g1);
    const other = connect('node-o', g1);
    await canaryNode.welcome();
    await other.welcome();
    const candidatePush = await canaryNode.push();
    assert.equal(candidatePush.mode, PushMode.PUSH_MODE_CANDIDATE);
    canaryNode.ack(candidatePush.nonce, g2, true);
    other.report(g1, null, 0);
    canaryNode.report(g1, g2, 5);
    await recorder.until((events) => events.some((e) => e.kind === 'reported' && e.nodeId === 'node-o'));
    // A later activation reaches node-o as its first push: nothing was sent to it before.
    source.activate(g3);
    const first = await other.push();
    assert.equal(first.mode, PushMode.PUSH_MODE_SERVE);
    assert.deepEqual(first.target, wire(g3));
    other.ack(first.nonce, g3, false);
    // The canary node keeps its candidate and is first brought onto the new base (SERVE drops the candidate) ...
    const base = await canaryNode.push();
    assert.equal(base.mode, PushMode.PUSH_MODE_SERVE);
    assert.deepEqual(base.target, wire(g3));
    canaryNode.ack(base.nonce, g3, false);
    // ... and then gets its candidate again beside it.
    const again = await canaryNode.push();
    assert.equal(again.mode, PushMode.PUSH_MODE_CANDIDATE);
    assert.deepEqual(again.target, wire(g2));
    canaryNode.ack(again.nonce, g2, true);
    source.activate(g1);
    assignments.set(SCOPE, 'node-x', null);
  });

  it('no assignment while a candidate is held (Hello.candidate): Promote of the active generation', async () => {
    const node = connect('node-d', g1, g2, 5);
    await node.welcome();
    await recorder.until((events) => events.some((e) => e.kind === 'connected' && e.nodeId === 'node-d' && e.candidate === g2.digest));
    const promote = await node.promote();
    assert.deepEqual(promote.target, wire(g1));
    node.ack(promote.nonce, g1, false);
  });

  it('a Promote answered by Nack "transfer" is followed by the push, and is not recorded as a NACK', async () => {
    assignments.set(SCOPE, 'node-e', { kind: 'serve', seq: 2 });
    const node = connect('node-e', g1, g2, 5);
    await node.welcome();
    const promote = await node.promote();
    assert.deepEqual(promote.target, wire(g2));
    node.nack(promote.nonce, g2, g1, 'transfer', true);
    const push = await node.push();
    assert.equal(push.mode, PushMode.PUSH_MODE_SERVE);
    assert.deepEqual(push.target, wire(g2));
    assert.deepEqual(Buffer.from(push.payload), Buffer.from(g2.payload));
    node.ack(push.nonce, g2, false);
    await recorder.until((events) => events.some((e) => e.kind === 'acked' && e.nodeId === 'node-e' && e.digest === g2.digest));
    assert.equal(recorder.events.filter((e) => e.kind === 'nacked' && e.nodeId === 'node-e').length, 0);
    assignments.set(SCOPE, 'node-e', null);
  });

  it('a NACKed candidate is parked for the boot: not re-sent, while a newer candidate is', async () => {
    assignments.set(SCOPE, 'node-g', { kind: 'candidate', seq: 2, canary });
    const node = connect('node-g', g1);
    await node.welcome();
    const push = await node.push();
    node.ack(push.nonce, g2, true);
    // The in-node canary falls back later: a Nack of the candidate, phase canary, not retryable.
    node.nack(push.nonce, g2, g1, 'canary', false);
    await recorder.until((events) => events.some((e) => e.kind === 'nacked' && e.nodeId === 'node-g' && e.phase === 'canary'));
    node.report(g1, null, 0);
    assignments.set(SCOPE, 'node-g', { kind: 'candidate', seq: 2, canary });
    // The next message is the candidate of seq 3: seq 2 was not sent again in between.
    assignments.set(SCOPE, 'node-g', { kind: 'candidate', seq: 3, canary: { ...canary, percent: 2 } });
    const next = await node.push();
    assert.equal(next.mode, PushMode.PUSH_MODE_CANDIDATE);
    assert.deepEqual(next.target, wire(g3));
    assert.equal(next.canary?.percent, 2);
    assignments.set(SCOPE, 'node-g', null);
  });

  it('health windows reach the sink; malformed ones are dropped and counted', async () => {
    const node = connect('node-h', g1);
    await node.welcome();
    const counts = [...LATENCY_BUCKET_BOUNDS_MS.map(() => 0), 0];
    counts[3] = 40;
    const good = (gen: DesiredGeneration, from: number): GenerationHealth => ({
      generation: wire(gen),
      fromUnixMs: from,
      toUnixMs: from + 10_000,
      requests: 40,
      local5xx: 1,
      upstream5xx: 0,
      latencyBucketCounts: counts,
    });
    const badLayout: GenerationHealth = { ...good(g2, 1_000), latencyBucketCounts: counts.slice(2) };
    const badErrors: GenerationHealth = { ...good(g2, 1_000), local5xx: 50 };
    node.report(g1, null, 0, [good(g1, 1_000), badLayout, good(g2, 1_000), badErrors]);
    const call = await health.firstFor('node-h');
    assert.equal(call.scope, SCOPE);
    assert.deepEqual(
      call.windows.map((w) => [w.generation.seq, w.fromMs, w.toMs, w.requests, w.local5xx, w.latencyCounts.length]),
      [
        [1, 1_000, 11_000, 40, 1, LATENCY_BUCKET_BOUNDS_MS.length + 1],
        [2, 1_000, 11_000, 40, 1, LATENCY_BUCKET_BOUNDS_MS.length + 1],
      ],
    );
    const text = await metricsRegistry.metrics();
    assert.match(text, /spooky_cp_health_windows_dropped_total\{reason="latency_layout"\} 1/);
    assert.match(text, /spooky_cp_health_windows_dropped_total\{reason="errors"\} 1/);
  });
});

describe('distribution server: a failing health sink', () => {
  const source = new FakeSource();
  const recorder = new FakeRecorder();
  let calls = 0;
  const health = {
    windows(): void {
      calls++;
      throw new Error('sink down');
    },
  };
  const server = createDistributionServer({ source, recorder, logger, reportIntervalMs: 60_000, health });
  const g1 = generation(SCOPE, 1);
  const g2 = generation(SCOPE, 2);
  let client: ConfigSyncClient | undefined;
  let node: TestNode | undefined;
  before(async () => {
    source.activate(g1);
    const port = await server.listen('127.0.0.1', 0);
    client = new ConfigSyncClient(`127.0.0.1:${port}`, credentials.createInsecure());
  });
  after(async () => {
    node?.close();
    client?.close();
    await server.shutdown();
  });

  it('never ends the stream: the next activation still reaches the node', async () => {
    if (!client) throw new Error('suite not started');
    node = new TestNode(client, 'node-s', g1);
    await node.welcome();
    const counts = [...LATENCY_BUCKET_BOUNDS_MS.map(() => 0), 1];
    node.report(g1, null, 0, [{ generation: wire(g1), fromUnixMs: 1, toUnixMs: 2, requests: 1, local5xx: 0, upstream5xx: 0, latencyBucketCounts: counts }]);
    await recorder.until((events) => events.some((e) => e.kind === 'reported' && e.nodeId === 'node-s'));
    assert.equal(calls, 1);
    source.activate(g2);
    const push = await node.push();
    assert.deepEqual(push.target, wire(g2));
  });
});
