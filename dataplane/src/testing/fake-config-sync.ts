/**
 * A small ConfigSync server for tests (a fake control plane), built from @spooky/proto's
 * service definition on a real grpc-js server bound to 127.0.0.1 port 0: answers every Hello
 * with a Welcome, records every message of every stream, and lets the test send Push /
 * Promote messages to the latest stream. Every wait is bounded.
 */
import { Server, ServerCredentials, type ServerDuplexStream } from '@grpc/grpc-js';
import {
  type CanaryAssignment,
  ConfigSyncService,
  type FromControlPlane,
  type FromDataPlane,
  type GenerationRef,
  MAX_MESSAGE_BYTES,
  PushMode,
} from '@spooky/proto';

type Session = ServerDuplexStream<FromDataPlane, FromControlPlane>;

export interface FakeConfigSync {
  readonly port: number;
  /** Every message received, in order, across streams. */
  readonly received: FromDataPlane[];
  /** Resolves once `check(received)` holds; rejects after `timeoutMs` naming `what`. */
  until(what: string, check: (received: readonly FromDataPlane[]) => boolean, timeoutMs?: number): Promise<void>;
  /** Sends to the latest stream; throws when there is none. */
  send(message: FromControlPlane): void;
  /** Ends the current stream (the client reconnects). */
  dropStream(): void;
  close(): Promise<void>;
}

export interface FakeConfigSyncOptions {
  /** Port to bind (a restarted fake control plane at the same address); default 0. */
  readonly port?: number;
  readonly reportIntervalMs?: number;
  /** Called after the Welcome of each stream (e.g. to push what the node should serve). */
  readonly onHello?: (hello: Extract<FromDataPlane['msg'], { $case: 'hello' }>['value'], sync: FakeConfigSync) => void;
}

export async function startFakeConfigSync(opts: FakeConfigSyncOptions = {}): Promise<FakeConfigSync> {
  const received: FromDataPlane[] = [];
  const waiters = new Set<() => void>();
  let current: Session | null = null;
  let sessions = 0;
  const server = new Server({ 'grpc.max_receive_message_length': MAX_MESSAGE_BYTES, 'grpc.max_send_message_length': MAX_MESSAGE_BYTES });
  let sync: FakeConfigSync | null = null;
  server.addService(ConfigSyncService, {
    session(call: Session) {
      current = call;
      sessions += 1;
      call.on('data', (m: FromDataPlane) => {
        received.push(m);
        if (m.msg?.$case === 'hello') {
          call.write({ msg: { $case: 'welcome', value: { sessionId: `s${sessions}`, reportIntervalMs: opts.reportIntervalMs ?? 50 } } });
          if (sync !== null) opts.onHello?.(m.msg.value, sync);
        }
        for (const w of [...waiters]) w();
      });
      call.on('error', () => undefined);
      call.on('end', () => {
        if (current === call) current = null;
        call.end();
      });
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`127.0.0.1:${opts.port ?? 0}`, ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound)));
  });
  sync = {
    port,
    received,
    until(what, check, timeoutMs = 10_000) {
      if (check(received)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
        }, timeoutMs);
        const waiter = (): void => {
          if (!check(received)) return;
          clearTimeout(timer);
          waiters.delete(waiter);
          resolve();
        };
        waiters.add(waiter);
      });
    },
    send(message) {
      if (current === null) throw new Error('no ConfigSync stream');
      current.write(message);
    },
    dropStream() {
      const s = current;
      current = null;
      s?.end();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.forceShutdown();
        resolve();
      }),
  };
  return sync;
}

/** A single-message Push of `payload` (canonical JSON) for `target`; CANDIDATE when `canary` is given. */
export function pushOf(nonce: string, target: GenerationRef, payload: Uint8Array, canary?: CanaryAssignment): FromControlPlane {
  return {
    msg: {
      $case: 'push',
      value: {
        nonce,
        target,
        payload: Buffer.from(payload),
        chunkCount: 0,
        totalSize: payload.byteLength,
        encoding: '',
        decodedSize: 0,
        mode: canary ? PushMode.PUSH_MODE_CANDIDATE : PushMode.PUSH_MODE_SERVE,
        canary,
      },
    },
  };
}

/** Wire canary assignment with thresholds that never trip. */
export function wireCanary(percent: number, crashWindowMs: number): CanaryAssignment {
  return { percent, crashWindowMs, minRequests: 1_000_000, maxErrorRatio: 1, maxErrorIncrease: 1, maxP99Factor: 100, minP99IncreaseMs: 60_000 };
}
