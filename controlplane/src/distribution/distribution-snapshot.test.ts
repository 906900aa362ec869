/**
 * The server's desired-generation snapshot over real gRPC: many sessions of one scope share
 * one read of the source and one encoded copy of the payload per push encoding; Reports never
 * read the source. Half the nodes accept zstd (current data planes), half list no encoding
 * (older builds) and get the canonical bytes.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { zstdDecompressSync } from 'node:zlib';
import { type ClientDuplexStream, credentials } from '@grpc/grpc-js';
import { ConfigSyncClient, type FromControlPlane, type FromDataPlane, MAX_MESSAGE_BYTES, PUSH_CHUNK_BYTES, PUSH_ENCODING_ZSTD, type Push, ServingSource } from '@spooky/proto';
import pino from 'pino';
import { createDistributionServer } from './distribution-server.ts';
import { FakeRecorder, FakeSource, generation } from './fake-distribution-ports.ts';

const SESSIONS = 40;
const SCOPE = 'fleet';

/** A minimal node: Hello, reassembles each push, checks its digest, Acks, Reports on demand. */
class Node {
  readonly acked: string[] = [];
  /** Push.encoding and wire size of each push received. */
  readonly received: { encoding: string; totalSize: number }[] = [];
  readonly #stream: ClientDuplexStream<FromDataPlane, FromControlPlane>;
  readonly #waiters: (() => void)[] = [];
  #push: Push | null = null;
  #chunks: Buffer[] = [];
  #serving: { scope: string; seq: number; digest: string } | undefined;

  constructor(client: ConfigSyncClient, nodeId: string, acceptEncodings: string[]) {
    this.#stream = client.session();
    this.#stream.on('error', () => undefined);
    this.#stream.on('data', (m: FromControlPlane) => this.#on(m));
    const hello = { nodeId, bootId: 'b', scope: SCOPE, labels: {}, schemaMin: 1, schemaMax: 1, build: 't', serving: undefined, source: ServingSource.SERVING_SOURCE_NONE, acceptEncodings, candidate: undefined, candidatePercent: 0 };
    this.#stream.write({ msg: { $case: 'hello', value: hello } });
  }

  /** Resolves once this node acked `digest`; rejects after a bound. */
  ackedDigest(digest: string, timeoutMs = 10_000): Promise<void> {
    if (this.acked.includes(digest)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ack of ${digest}; acked ${JSON.stringify(this.acked)}`)), timeoutMs);
      this.#waiters.push(() => {
        if (!this.acked.includes(digest)) return;
        clearTimeout(timer);
        resolve();
      });
    });
  }

  report(): void {
    const source = this.#serving ? ServingSource.SERVING_SOURCE_CONTROL_PLANE : ServingSource.SERVING_SOURCE_NONE;
    this.#stream.write({ msg: { $case: 'report', value: { serving: this.#serving, source, requestsTotal: 0, inflight: 0, atUnixMs: Date.now(), candidate: undefined, candidatePercent: 0, generationHealth: [] } } });
  }

  close(): void {
    this.#stream.cancel();
  }

  #on(m: FromControlPlane): void {
    if (m.msg?.$case === 'push') {
      this.#push = m.msg.value;
      this.#chunks = [];
      if (m.msg.value.chunkCount === 0) this.#apply(m.msg.value, m.msg.value.payload);
    } else if (m.msg?.$case === 'chunk' && this.#push !== null) {
      assert.equal(m.msg.value.nonce, this.#push.nonce);
      assert.equal(m.msg.value.index, this.#chunks.length);
      this.#chunks.push(m.msg.value.data);
      if (this.#chunks.length === this.#push.chunkCount) this.#apply(this.#push, Buffer.concat(this.#chunks));
    }
  }

  #apply(push: Push, wire: Buffer): void {
    const target = push.target;
    assert.ok(target);
    assert.equal(wire.byteLength, push.totalSize);
    this.received.push({ encoding: push.encoding, totalSize: push.totalSize });
    const payload = push.encoding === PUSH_ENCODING_ZSTD ? zstdDecompressSync(wire, { maxOutputLength: push.decodedSize }) : wire;
    if (push.encoding !== '') assert.equal(payload.byteLength, push.decodedSize);
    assert.equal(`sha256:${createHash('sha256').update(payload).digest('hex')}`, target.digest);
    this.#serving = target;
    this.#stream.write({ msg: { $case: 'ack', value: { nonce: push.nonce, applied: target, servingAtUnixMs: Date.now(), candidate: false } } });
    this.acked.push(target.digest);
    for (const w of [...this.#waiters]) w();
  }
}

/** Bounded polling of a condition with no event of its own. */
async function eventually(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('distribution server: one desired snapshot per scope', () => {
  const source = new FakeSource();
  const recorder = new FakeRecorder();
  const server = createDistributionServer({ source, recorder, logger: pino({ level: 'silent' }), reportIntervalMs: 60_000 });
  let client: ConfigSyncClient;
  const nodes: Node[] = [];

  before(async () => {
    const port = await server.listen('127.0.0.1', 0);
    client = new ConfigSyncClient(`127.0.0.1:${port}`, credentials.createInsecure(), { 'grpc.max_receive_message_length': MAX_MESSAGE_BYTES });
  });
  after(async () => {
    for (const n of nodes) n.close();
    client.close();
    await server.shutdown();
  });

  it(`${SESSIONS} sessions: one source read and one encoded payload per activation, none per Report`, async () => {
    for (let i = 0; i < SESSIONS; i++) nodes.push(new Node(client, `n${i}`, i % 2 === 0 ? [PUSH_ENCODING_ZSTD] : []));
    await recorder.until(() => recorder.count('connected') === SESSIONS);
    assert.equal(source.reads, 1, 'a scope with no activation is read once, not per Hello');
    assert.equal(server.snapshotsHeld().bytes, 0);

    // A chunked generation (more than one PUSH_CHUNK_BYTES), then a small inline one.
    const big = generation(SCOPE, 1, { seq: 1, filler: 'f'.repeat(PUSH_CHUNK_BYTES + 100_000) });
    for (const [k, gen] of [big, generation(SCOPE, 2)].entries()) {
      source.activate(gen);
      await Promise.all(nodes.map((n) => n.ackedDigest(gen.digest)));
      assert.equal(source.reads, 2 + k, 'one read per activation whatever the number of sessions');
      const held = server.snapshotsHeld();
      assert.equal(held.scopes, 1);
      // The canonical payload, its identity push and its (much smaller) zstd push.
      assert.ok(held.bytes >= 2 * gen.payload.byteLength && held.bytes < 2.5 * gen.payload.byteLength + 400, `held ${held.bytes} bytes for a ${gen.payload.byteLength}-byte payload`);
      for (const [i, n] of nodes.entries()) {
        const last = n.received.at(-1);
        // The small generation does not get smaller under zstd: it goes as identity to everyone.
        assert.equal(last?.encoding, i % 2 === 0 && k === 0 ? PUSH_ENCODING_ZSTD : '', `node ${i}`);
        if (i % 2 === 0 && k === 0) assert.ok((last?.totalSize ?? 0) < gen.payload.byteLength / 10, 'the filler compresses');
      }

      const reportsBefore = recorder.count('reported');
      for (const n of nodes) n.report();
      await recorder.until(() => recorder.count('reported') === reportsBefore + SESSIONS);
      assert.equal(source.reads, 2 + k, 'Reports never read the source');
    }
    assert.equal(server.pushesSent('n0'), 2);
  });

  it('drops the snapshot once the last session of the scope is gone', async () => {
    for (const n of nodes) n.close();
    await eventually(() => server.snapshotsHeld().scopes === 0, 'the snapshot to be evicted');
  });
});
