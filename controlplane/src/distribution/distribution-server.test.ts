/**
 * The server over real gRPC on 127.0.0.1, driven by a bare protocol client (the data plane's
 * client lives in another plane; the end-to-end pairing is in test/src/config-sync.test.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ClientDuplexStream, credentials, type ServiceError, status } from '@grpc/grpc-js';
import { ConfigSyncClient, type FromControlPlane, type FromDataPlane, type Hello, ServingSource } from '@spooky/proto';
import pino from 'pino';
import { Registry } from 'prom-client';
import { createDistributionServer, type DistributionServer } from './distribution-server.ts';
import { FakeRecorder, FakeSource, generation } from './fake-distribution-ports.ts';

type Stream = ClientDuplexStream<FromDataPlane, FromControlPlane>;

const logger = pino({ level: 'silent' });

function hello(nodeId: string, over: Partial<Hello> = {}): FromDataPlane {
  return {
    msg: {
      $case: 'hello',
      value: {
        nodeId,
        bootId: 'boot-1',
        scope: 'prod',
        labels: {},
        schemaMin: 1,
        schemaMax: 1,
        build: 'test',
        serving: undefined,
        source: 1,
        acceptEncodings: [],
        candidate: undefined,
        candidatePercent: 0,
        ...over,
      },
    },
  };
}

/** Collects what the server sends and lets the test wait for the n-th message. */
function inbox(stream: Stream): { next(): Promise<FromControlPlane> } {
  const queue: FromControlPlane[] = [];
  const waiters: ((m: FromControlPlane) => void)[] = [];
  stream.on('data', (m: FromControlPlane) => {
    const w = waiters.shift();
    if (w) w(m);
    else queue.push(m);
  });
  return {
    next: () => {
      const m = queue.shift();
      return m ? Promise.resolve(m) : new Promise((resolve) => waiters.push(resolve));
    },
  };
}

interface SuiteClient {
  session(): Stream;
  /** A session whose stream errors are ignored (the test reads what arrives), with its inbox. */
  open(): { stream: Stream; box: ReturnType<typeof inbox> };
}

/**
 * Serves `server` on a loopback port for the enclosing suite (before) and connects one client;
 * both are closed after the suite. Sessions open on that client.
 */
function servedForSuite(server: DistributionServer): SuiteClient {
  let client: ConfigSyncClient | undefined;
  before(async () => {
    const port = await server.listen('127.0.0.1', 0);
    client = new ConfigSyncClient(`127.0.0.1:${port}`, credentials.createInsecure());
  });
  after(async () => {
    client?.close();
    await server.shutdown();
  });
  const session = (): Stream => {
    if (!client) throw new Error('the suite has not started');
    return client.session();
  };
  return {
    session,
    open: () => {
      const stream = session();
      stream.on('error', () => undefined);
      return { stream, box: inbox(stream) };
    },
  };
}

describe('distribution server', () => {
  const source = new FakeSource();
  const recorder = new FakeRecorder();
  const client = servedForSuite(createDistributionServer({ source, recorder, logger, reportIntervalMs: 5_000 }));

  it('ends a stream whose first message is not Hello with FAILED_PRECONDITION', async () => {
    const stream = client.session();
    const failed = new Promise<ServiceError>((resolve) => stream.on('error', resolve));
    stream.on('data', () => undefined);
    stream.write({ msg: { $case: 'report', value: { serving: undefined, source: 1, requestsTotal: 0, inflight: 0, atUnixMs: 0, candidate: undefined, candidatePercent: 0, generationHealth: [] } } });
    assert.equal((await failed).code, status.FAILED_PRECONDITION);
  });

  it('rejects a Hello without identity with INVALID_ARGUMENT', async () => {
    const stream = client.session();
    const failed = new Promise<ServiceError>((resolve) => stream.on('error', resolve));
    stream.on('data', () => undefined);
    stream.write(hello(''));
    assert.equal((await failed).code, status.INVALID_ARGUMENT);
  });

  it('Hello → Welcome → Push; Ack recorded; one push at a time, newest target coalesced', async () => {
    const g1 = generation('prod', 1);
    source.activate(g1);
    const { stream, box } = client.open();
    stream.write(hello('node-a'));

    const welcome = await box.next();
    assert.ok(welcome.msg?.$case === 'welcome');
    assert.equal(welcome.msg.value.reportIntervalMs, 5_000);
    const push1 = await box.next();
    assert.ok(push1.msg?.$case === 'push');
    assert.equal(push1.msg.value.target?.digest, g1.digest);
    assert.deepEqual(new Uint8Array(push1.msg.value.payload), new Uint8Array(g1.payload));

    // Two activations while push1 is unanswered: nothing is sent until the answer, then only g3.
    source.activate(generation('prod', 2));
    const g3 = generation('prod', 3);
    source.activate(g3);
    // An Ack for an unknown nonce is recorded but frees nothing.
    stream.write({ msg: { $case: 'ack', value: { nonce: 'stale', applied: { scope: 'prod', seq: 0, digest: 'sha256:0' }, servingAtUnixMs: 1, candidate: false } } });
    await recorder.until((ev) => ev.some((e) => e.kind === 'acked' && e.seq === 0));

    stream.write({ msg: { $case: 'ack', value: { nonce: push1.msg.value.nonce, applied: push1.msg.value.target, servingAtUnixMs: Date.now(), candidate: false } } });
    const push3 = await box.next();
    assert.ok(push3.msg?.$case === 'push');
    assert.equal(push3.msg.value.target?.seq, 3);
    assert.notEqual(push3.msg.value.nonce, push1.msg.value.nonce);
    await recorder.until((ev) => ev.some((e) => e.kind === 'acked' && e.seq === 1));

    const ended = new Promise<void>((resolve) => stream.on('end', resolve));
    stream.end();
    await ended;
    await recorder.until((ev) => ev.some((e) => e.kind === 'disconnected' && e.nodeId === 'node-a'));
    assert.equal(g3.seq, 3);
  });

  it('a second stream of the same node supersedes the first without recording a disconnect', async () => {
    const first = client.session();
    const aborted = new Promise<ServiceError>((resolve) => first.on('error', resolve));
    const firstBox = inbox(first);
    first.write(hello('node-b'));
    await firstBox.next(); // Welcome
    const disconnectsBefore = recorder.count('disconnected');

    const { stream: second, box: secondBox } = client.open();
    second.write(hello('node-b'));
    assert.equal((await secondBox.next()).msg?.$case, 'welcome');
    assert.equal((await aborted).code, status.ABORTED);
    assert.equal(recorder.count('disconnected'), disconnectsBefore);
    second.cancel();
    await recorder.until(() => recorder.count('disconnected') === disconnectsBefore + 1);
  });
});

/** Bounded polling of a condition with no event of its own (a timer inside the server). */
async function eventually(condition: () => boolean, what: string, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const report = (digest?: string): FromDataPlane => ({
  msg: {
    $case: 'report',
    value: {
      serving: digest ? { scope: 'prod', seq: 0, digest } : undefined,
      source: digest ? ServingSource.SERVING_SOURCE_CONTROL_PLANE : ServingSource.SERVING_SOURCE_NONE,
      requestsTotal: 0, inflight: 0, atUnixMs: Date.now(), candidate: undefined, candidatePercent: 0, generationHealth: [] },
  },
});

describe('distribution server hardening', () => {
  const source = new FakeSource();
  const recorder = new FakeRecorder();
  const registry = new Registry();
  const server = createDistributionServer({ source, recorder, logger, reportIntervalMs: 5_000, pushTimeoutMs: 150, metricsRegistry: registry });
  const client = servedForSuite(server);

  it('abandons an unanswered push after the timeout, re-pushes on the next trigger and counts both', async () => {
    const scope = 'prod';
    const g = generation(scope, 11);
    source.activate(g);
    const { stream, box } = client.open();
    stream.write(hello('node-c'));
    assert.equal((await box.next()).msg?.$case, 'welcome');
    const push1 = await box.next();
    assert.ok(push1.msg?.$case === 'push');
    assert.equal(server.pushesSent('node-c'), 1);

    await eventually(() => server.pushesAbandoned('node-c') === 1, 'the push to be abandoned');
    stream.write(report());
    const push2 = await box.next();
    assert.ok(push2.msg?.$case === 'push');
    assert.notEqual(push2.msg.value.nonce, push1.msg.value.nonce);
    assert.equal(push2.msg.value.target?.digest, g.digest);
    assert.equal(server.pushesSent('node-c'), 2);

    // The late answer to the abandoned push is recorded but frees nothing: a Report still sees push2 pending.
    stream.write({ msg: { $case: 'ack', value: { nonce: push1.msg.value.nonce, applied: push1.msg.value.target, servingAtUnixMs: Date.now(), candidate: false } } });
    await recorder.until((ev) => ev.some((e) => e.kind === 'acked' && e.nodeId === 'node-c'));
    stream.write({ msg: { $case: 'ack', value: { nonce: push2.msg.value.nonce, applied: push2.msg.value.target, servingAtUnixMs: Date.now(), candidate: false } } });
    await recorder.until((ev) => ev.filter((e) => e.kind === 'acked' && e.nodeId === 'node-c').length === 2);
    stream.write(report(g.digest));
    await recorder.until((ev) => ev.some((e) => e.kind === 'reported' && e.nodeId === 'node-c' && e.digest === g.digest));
    assert.equal(server.pushesSent('node-c'), 2);
    assert.equal(server.pushesAbandoned('node-c'), 1);

    const sent = await registry.getSingleMetricAsString('spooky_cp_pushes_sent_total');
    assert.match(sent, /spooky_cp_pushes_sent_total\{scope="prod"\} 2/);
    const abandoned = await registry.getSingleMetricAsString('spooky_cp_pushes_abandoned_total');
    assert.match(abandoned, /spooky_cp_pushes_abandoned_total\{scope="prod"\} 1/);
    stream.cancel();
  });

  it("never pushes a generation whose schema version is outside the node's range", async () => {
    source.activate({ ...generation('prod', 12), schemaVersion: 2 });
    const { stream, box } = client.open();
    stream.write(hello('node-d', { schemaMin: 1, schemaMax: 1 }));
    assert.equal((await box.next()).msg?.$case, 'welcome');
    stream.write(report());
    await recorder.until((ev) => ev.some((e) => e.kind === 'reported' && e.nodeId === 'node-d'));
    assert.equal(server.pushesSent('node-d'), 0);

    const runnable = { ...generation('prod', 13), schemaVersion: 1 };
    source.activate(runnable);
    const push = await box.next();
    assert.ok(push.msg?.$case === 'push');
    assert.equal(push.msg.value.target?.seq, 13);
    assert.equal(server.pushesSent('node-d'), 1);
    stream.cancel();
  });

  it('re-pushes the desired digest to a node serving it from its disk cache, not to one serving it from the control plane', async () => {
    const g = generation('prod', 14);
    source.activate(g);
    const { stream: cached, box: cachedBox } = client.open();
    cached.write(hello('node-e', { serving: { scope: 'prod', seq: 14, digest: g.digest }, source: ServingSource.SERVING_SOURCE_DISK_CACHE }));
    assert.equal((await cachedBox.next()).msg?.$case, 'welcome');
    const push = await cachedBox.next();
    assert.ok(push.msg?.$case === 'push');
    assert.equal(push.msg.value.target?.digest, g.digest);

    const { stream: live, box: liveBox } = client.open();
    live.write(hello('node-f', { serving: { scope: 'prod', seq: 14, digest: g.digest }, source: ServingSource.SERVING_SOURCE_CONTROL_PLANE }));
    assert.equal((await liveBox.next()).msg?.$case, 'welcome');
    live.write(report(g.digest));
    await recorder.until((ev) => ev.some((e) => e.kind === 'reported' && e.nodeId === 'node-f'));
    assert.equal(server.pushesSent('node-f'), 0);
    cached.cancel();
    live.cancel();
  });
});
