/**
 * A light fake data-plane fleet for the propagation bench: many ConfigSync sessions from one
 * process, each on its own HTTP/2 connection (local subchannel pool), speaking the real
 * protocol from proto/: Hello → Welcome → Push (+ Chunks) → sha256 of the payload (chunks
 * hashed in order as they arrive) checked against the target digest → Ack, and a Report every interval the Welcome asks for.
 * Sessions list zstd in accept_encodings like a current data plane (unless `identity`): a zstd
 * push is reassembled, decoded (bounded by decoded_size) and then hashed.
 * PayloadCheck: with `fullVerify` every session decodes and hashes its payload, which puts 100
 * nodes' decode + sha256 on the bench machine's CPU next to the control plane; without it, the
 * first session to receive a (digest, encoding) does that, and every other session checks that
 * its wire bytes are byte-for-byte those verified ones (a memcmp) — each of them still proves it
 * received exactly the bytes of the target digest, while the per-node decode cost is measured
 * once, on a real data plane (`--dataplane`), where it runs in parallel with the others.
 * It does not parse or compile the config (that is the data plane's cost, not propagation's).
 */
import { createHash, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { zstdDecompressSync } from 'node:zlib';
import { type ClientDuplexStream, credentials } from '@grpc/grpc-js';
import {
  CONFIG_SYNC_FLOW_CONTROL_WINDOW,
  ConfigSyncClient,
  type FromControlPlane,
  type FromDataPlane,
  type GenerationRef,
  MAX_MESSAGE_BYTES,
  PUSH_ENCODING_ZSTD,
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
  readonly #check: PayloadCheck;
  /** Wire bytes of the push in progress (checked once complete). */
  #parts: Buffer[] = [];
  #received = 0;
  #nextIndex = 0;
  #reportTimer: NodeJS.Timeout | undefined;
  failure: Error | null = null;

  constructor(
    address: string,
    scope: string,
    nodeId: string,
    acceptEncodings: string[],
    check: PayloadCheck,
    window: number,
    onAck: (session: FakeSession, ack: AckSeen) => void,
  ) {
    this.nodeId = nodeId;
    this.#check = check;
    this.#onAck = onAck;
    this.#client = new ConfigSyncClient(address, credentials.createInsecure(), {
      'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
      // One connection per session, as with real data planes (grpc-js shares them otherwise).
      'grpc.use_local_subchannel_pool': 1,
      // As a data plane does (control-client.ts); `--window 0` leaves HTTP/2's 64 KiB default.
      ...(window > 0 ? { 'grpc-node.flow_control_window': window } : {}),
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
          acceptEncodings,
          candidate: undefined,
          candidatePercent: 0,
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
      this.#parts = [msg.value.payload];
      this.#received = msg.value.payload.byteLength;
      this.#nextIndex = 0;
      if (msg.value.chunkCount === 0) this.#apply(msg.value);
    } else if (msg?.$case === 'chunk') {
      const push = this.#push;
      if (push === null || msg.value.nonce !== push.nonce || msg.value.index !== this.#nextIndex) {
        this.failure ??= new Error(`${this.nodeId}: chunk out of order`);
        return;
      }
      this.#parts.push(msg.value.data);
      this.#received += msg.value.data.byteLength;
      this.#nextIndex++;
      if (this.#nextIndex === push.chunkCount) this.#apply(push);
    }
  }

  #apply(push: Push): void {
    const target = push.target;
    const wire = this.#parts.length === 1 ? (this.#parts[0] ?? Buffer.alloc(0)) : Buffer.concat(this.#parts);
    this.#push = null;
    this.#parts = [];
    if (target === undefined || this.#received !== push.totalSize || !this.#check.matches(target.digest, push, wire)) {
      this.failure ??= new Error(`${this.nodeId}: payload does not match its digest`);
      return;
    }
    this.#serving = target;
    this.#stream.write({ msg: { $case: 'ack', value: { nonce: push.nonce, applied: target, servingAtUnixMs: Date.now(), candidate: false } } });
    this.#onAck(this, { digest: target.digest, at: performance.now() });
  }

  #report(): void {
    const source = this.#serving ? ServingSource.SERVING_SOURCE_CONTROL_PLANE : ServingSource.SERVING_SOURCE_NONE;
    this.#stream.write({
      msg: { $case: 'report', value: { serving: this.#serving, source, requestsTotal: 0, inflight: 0, atUnixMs: Date.now(), candidate: undefined, candidatePercent: 0, generationHealth: [] } },
    });
  }
}

/** Does `wire` (a push's reassembled bytes) decode to canonical bytes whose digest is `digest`? */
export class PayloadCheck {
  readonly #full: boolean;
  /** (digest, encoding) → wire bytes already verified. */
  readonly #verified = new Map<string, Buffer>();

  constructor(fullVerify: boolean) {
    this.#full = fullVerify;
  }

  matches(digest: string, push: Push, wire: Buffer): boolean {
    const key = `${digest} ${push.encoding}`;
    const known = this.#verified.get(key);
    if (!this.#full && known !== undefined) return known.equals(wire);
    let canonical: Buffer;
    if (push.encoding === PUSH_ENCODING_ZSTD) canonical = zstdDecompressSync(wire, { maxOutputLength: Math.max(1, push.decodedSize) });
    else if (push.encoding === '') canonical = wire;
    else return false;
    if (`sha256:${createHash('sha256').update(canonical).digest('hex')}` !== digest) return false;
    if (!this.#full) this.#verified.set(key, wire);
    return true;
  }
}

export class FakeFleet {
  readonly #sessions: FakeSession[] = [];
  /** Digest → ack times of the sessions that acked it. */
  readonly #acks = new Map<string, number[]>();
  #waiter: { digest: string; resolve: () => void } | null = null;

  static async connect(
    address: string,
    scope: string,
    count: number,
    timeoutMs: number,
    opts: { readonly identity?: boolean; readonly fullVerify?: boolean; readonly window?: number } = {},
  ): Promise<FakeFleet> {
    const fleet = new FakeFleet();
    const encodings = opts.identity === true ? [] : [PUSH_ENCODING_ZSTD];
    const check = new PayloadCheck(opts.fullVerify === true);
    for (let i = 0; i < count; i++) {
      fleet.#sessions.push(new FakeSession(address, scope, `bench-node-${i}`, encodings, check, opts.window ?? CONFIG_SYNC_FLOW_CONTROL_WINDOW, (_s, ack) => fleet.#acked(ack)));
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
