/**
 * A light fake data-plane fleet for the propagation bench: many ConfigSync sessions from one
 * process, each on its own HTTP/2 connection (local subchannel pool), speaking the real
 * protocol from proto/: Hello → Welcome → Push (+ Chunks) → sha256 of the payload (chunks
 * hashed in order as they arrive) checked against the target digest → Ack, and a Report every interval the Welcome asks for.
 * It does not parse or compile the config (that is the data plane's cost, not propagation's).
 */
import { createHash, type Hash, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { type ClientDuplexStream, credentials } from '@grpc/grpc-js';
import {
  ConfigSyncClient,
  type FromControlPlane,
  type FromDataPlane,
  type GenerationRef,
  MAX_MESSAGE_BYTES,
  type Push,
  ServingSource,
} from '@spooky/proto';

export interface AckSeen {
  readonly digest: string;
  /** performance.now() when the Ack was written. */
  readonly at: number;
}

class FakeSession {
  readonly nodeId: string;
  readonly #client: ConfigSyncClient;
  readonly #stream: ClientDuplexStream<FromDataPlane, FromControlPlane>;
  readonly #onAck: (session: FakeSession, ack: AckSeen) => void;
  readonly welcomed: Promise<void>;
  #serving: GenerationRef | undefined;
  #push: Push | null = null;
  /** Chunks are hashed as they arrive (never concatenated): the fleet's CPU competes with the control plane's. */
  #hash: Hash | null = null;
  #received = 0;
  #nextIndex = 0;
  #reportTimer: NodeJS.Timeout | undefined;
  failure: Error | null = null;

  constructor(address: string, scope: string, nodeId: string, onAck: (session: FakeSession, ack: AckSeen) => void) {
    this.nodeId = nodeId;
    this.#onAck = onAck;
    this.#client = new ConfigSyncClient(address, credentials.createInsecure(), {
      'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
      // One connection per session, as with real data planes (grpc-js shares them otherwise).
      'grpc.use_local_subchannel_pool': 1,
    });
    this.#stream = this.#client.session();
    this.welcomed = new Promise((resolve, reject) => {
      this.#stream.on('data', (message: FromControlPlane) => {
        if (message.msg?.$case === 'welcome') {
          const every = message.msg.value.reportIntervalMs;
          this.#reportTimer = setInterval(() => this.#report(), every);
          resolve();
          return;
        }
        this.#onMessage(message);
      });
      this.#stream.on('error', (err: Error) => {
        if (this.failure === null && !/CANCELLED/.test(err.message)) this.failure = err;
        reject(err);
      });
    });
    this.welcomed.catch(() => undefined);
    this.#stream.write({
      msg: {
        $case: 'hello',
        value: {
          nodeId,
          bootId: randomUUID(),
          scope,
          labels: { bench: 'propagation' },
          schemaMin: 1,
          schemaMax: 1,
          build: 'propagation-bench',
          serving: undefined,
          source: ServingSource.SERVING_SOURCE_NONE,
          acceptEncodings: [],
        },
      },
    });
  }

  close(): void {
    clearInterval(this.#reportTimer);
    this.#stream.cancel();
    this.#client.close();
  }

  #onMessage(message: FromControlPlane): void {
    const msg = message.msg;
    if (msg?.$case === 'push') {
      this.#push = msg.value;
      this.#hash = createHash('sha256').update(msg.value.payload);
      this.#received = msg.value.payload.byteLength;
      this.#nextIndex = 0;
      if (msg.value.chunkCount === 0) this.#apply(msg.value);
    } else if (msg?.$case === 'chunk') {
      const push = this.#push;
      if (push === null || this.#hash === null || msg.value.nonce !== push.nonce || msg.value.index !== this.#nextIndex) {
        this.failure ??= new Error(`${this.nodeId}: chunk out of order`);
        return;
      }
      this.#hash.update(msg.value.data);
      this.#received += msg.value.data.byteLength;
      this.#nextIndex++;
      if (this.#nextIndex === push.chunkCount) this.#apply(push);
    }
  }

  #apply(push: Push): void {
    const target = push.target;
    const sum = `sha256:${this.#hash?.digest('hex')}`;
    this.#push = null;
    this.#hash = null;
    if (target === undefined || sum !== target.digest || this.#received !== push.totalSize) {
      this.failure ??= new Error(`${this.nodeId}: payload does not match its digest`);
      return;
    }
    this.#serving = target;
    this.#stream.write({ msg: { $case: 'ack', value: { nonce: push.nonce, applied: target, servingAtUnixMs: Date.now() } } });
    this.#onAck(this, { digest: target.digest, at: performance.now() });
  }

  #report(): void {
    const source = this.#serving ? ServingSource.SERVING_SOURCE_CONTROL_PLANE : ServingSource.SERVING_SOURCE_NONE;
    this.#stream.write({
      msg: { $case: 'report', value: { serving: this.#serving, source, requestsTotal: 0, inflight: 0, atUnixMs: Date.now() } },
    });
  }
}

export class FakeFleet {
  readonly #sessions: FakeSession[] = [];
  /** Digest → ack times of the sessions that acked it. */
  readonly #acks = new Map<string, number[]>();
  #waiter: { digest: string; resolve: () => void } | null = null;

  static async connect(address: string, scope: string, count: number, timeoutMs: number): Promise<FakeFleet> {
    const fleet = new FakeFleet();
    for (let i = 0; i < count; i++) {
      fleet.#sessions.push(new FakeSession(address, scope, `bench-node-${i}`, (_s, ack) => fleet.#acked(ack)));
    }
    await within(Promise.all(fleet.#sessions.map((s) => s.welcomed)), timeoutMs, 'sessions to be welcomed');
    return fleet;
  }

  /** Resolves with the time of the last Ack once every session acked `digest`. */
  async allAcked(digest: string, timeoutMs: number): Promise<number> {
    const done = (): boolean => (this.#acks.get(digest)?.length ?? 0) >= this.#sessions.length;
    if (!done()) {
      await within(
        new Promise<void>((resolve) => {
          this.#waiter = { digest, resolve };
        }),
        timeoutMs,
        `every session to ack ${digest} (${this.#acks.get(digest)?.length ?? 0} of ${this.#sessions.length} did)`,
      );
    }
    this.#waiter = null;
    this.#throwOnFailure();
    const times = this.#acks.get(digest) ?? [];
    this.#acks.delete(digest);
    return Math.max(...times);
  }

  close(): void {
    for (const s of this.#sessions) s.close();
  }

  #acked(ack: AckSeen): void {
    let times = this.#acks.get(ack.digest);
    if (times === undefined) {
      times = [];
      this.#acks.set(ack.digest, times);
    }
    times.push(ack.at);
    const w = this.#waiter;
    if (w !== null && w.digest === ack.digest && times.length >= this.#sessions.length) w.resolve();
  }

  #throwOnFailure(): void {
    const failed = this.#sessions.find((s) => s.failure !== null);
    if (failed) throw failed.failure;
  }
}

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
