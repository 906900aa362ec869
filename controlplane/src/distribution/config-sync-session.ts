/**
 * One ConfigSync stream on the control-plane side: the gRPC I/O shell around the pure push
 * decisions (push-decision.ts) and parking (parking.ts). Wire conversions live in
 * wire-refs.ts and hello-facts.ts, what a Nack records in record-nack.ts, push framing in
 * push-messages.ts (encoded once per generation and shared: push-plan.ts, desired-snapshots.ts).
 *
 * Life: the first message must be Hello (else the stream ends with FAILED_PRECONDITION) →
 * with `requireNodeIdentity`, the client certificate must name the Hello's scope and node id
 * (node-identity.ts; else PERMISSION_DENIED before anything is recorded: no fleet entry, and no
 * later Nack or schema range of that stream counts) → Welcome → Push whenever the desired generation differs from what the node serves → Ack/Nack
 * answer it → Reports keep the node's view fresh. The stream's end, cancellation or error
 * records the node as disconnected (unless a newer stream of the same node superseded it).
 * A push unanswered after `pushTimeoutMs` is abandoned: logged, counted, and the next trigger
 * (Report, activation) may push again.
 *
 * Log lines: "distribution: push sent" {nonce, seq, digest, bytes (on the wire), encoding, messages} per push;
 * "distribution: push abandoned (no answer)"; "distribution: schema version outside the node's
 * range, not pushed" (once per digest per stream).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { type ServerDuplexStream, status } from '@grpc/grpc-js';
import type { Ack, FromDataPlane, Hello, Nack, Report } from '@spooky/proto';
import type pino from 'pino';
import type { DesiredSnapshot, DesiredSnapshots } from './desired-snapshots.ts';
import { helloFacts, isValidHello } from './hello-facts.ts';
import type { NodeAuthReason } from './node-identity.ts';
import { OneShotTimer } from './one-shot-timer.ts';
import type { OutgoingMessage } from './outgoing-messages.ts';
import type { NodeParking } from './parking.ts';
import { checkPeerIdentity } from './peer-identity.ts';
import type { GenerationRef, NodeRecorder, NodeServingSource } from './ports.ts';
import { afterAck, afterNack, afterPush, afterPushTimeout, afterReport, decidePush, type SessionView } from './push-decision.ts';
import { chooseEncoding, type PushEncoding } from './push-encoding.ts';
import { planMessages } from './push-plan.ts';
import { recordNack } from './record-nack.ts';
import { StreamWriter } from './stream-writer.ts';
import { fromWireRef, fromWireSource } from './wire-refs.ts';

export type SessionCall = ServerDuplexStream<FromDataPlane, OutgoingMessage>;

export interface SessionDeps {
  /** The scopes' desired generations, held in memory with their pushes encoded once. */
  readonly snapshots: Pick<DesiredSnapshots, 'desired'>;
  readonly recorder: NodeRecorder;
  readonly parking: NodeParking;
  readonly logger: pino.Logger;
  readonly reportIntervalMs: number;
  /** How long a push may stay unanswered before it is abandoned. */
  readonly pushTimeoutMs: number;
  /** Called after each push is queued for writing (for counters). */
  readonly onPushSent?: (session: ConfigSyncSession, target: GenerationRef) => void;
  /** Called when a push is abandoned for lack of an answer. */
  readonly onPushAbandoned?: (session: ConfigSyncSession, target: GenerationRef) => void;
  /** Called once the Hello is accepted; may supersede an older session of the same node. */
  readonly onIdentified: (session: ConfigSyncSession) => void;
  /** Called once when the stream is over, whatever the reason. */
  readonly onClosed: (session: ConfigSyncSession) => void;
  readonly now?: () => number;
  /**
   * True when the listener is mutual TLS: each Hello is checked against the peer certificate's
   * identities. False (plaintext loopback dev): no certificate exists, identity is not checked.
   */
  readonly requireNodeIdentity?: boolean;
  /** Called once per Hello refused for its certificate (for the failure counter). */
  readonly onAuthRefused?: (reason: NodeAuthReason) => void;
}

export class ConfigSyncSession {
  readonly sessionId = randomUUID();
  readonly #call: SessionCall;
  readonly #deps: SessionDeps;
  readonly #writer: StreamWriter<OutgoingMessage>;
  readonly #now: () => number;
  #hello: Hello | null = null;
  #log: pino.Logger;
  #view: SessionView = { serving: null, pending: null, queued: null };
  readonly #retryTimer = new OneShotTimer();
  /** Armed while a push waits for its Ack/Nack. */
  readonly #pushTimer = new OneShotTimer();
  #servingSource: NodeServingSource = 'none';
  /** Push encoding this node accepts (from its Hello); identity for nodes that list none. */
  #encoding: PushEncoding = '';
  /** Digest whose schema refusal was logged last (log once, not on every Report). */
  #schemaRefusalLogged: string | null = null;
  #closed = false;
  #superseded = false;

  constructor(call: SessionCall, deps: SessionDeps) {
    this.#call = call;
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
    this.#writer = new StreamWriter(call);
    this.#log = deps.logger.child({ sessionId: this.sessionId });
    call.on('data', (message: FromDataPlane) => this.#onMessage(message));
    call.on('end', () => {
      // The data plane half-closed: finish our side with OK.
      this.#finish();
      call.end();
    });
    call.on('cancelled', () => this.#finish());
    call.on('error', () => this.#finish());
    call.on('close', () => this.#finish());
  }

  get nodeId(): string {
    return this.#hello?.nodeId ?? '';
  }

  get scope(): string {
    return this.#hello?.scope ?? '';
  }

  /** Decide again (activation changed, answer received, retry time reached) and push if due. */
  evaluate(): void {
    const hello = this.#hello;
    if (this.#closed || hello === null) return;
    let desired: DesiredSnapshot | null;
    try {
      desired = this.#deps.snapshots.desired(hello.scope);
    } catch (err) {
      this.#log.error({ err }, 'distribution: reading the desired generation failed');
      return;
    }
    const nowMs = this.#now();
    const parked = desired ? this.#deps.parking.get(hello.nodeId, hello.bootId, desired.digest) : undefined;
    const decision = decidePush({
      desired,
      session: this.#view,
      parked,
      nowMs,
      servingSource: this.#servingSource,
      schemaRange: { min: hello.schemaMin, max: hello.schemaMax },
    });
    switch (decision.kind) {
      case 'schema-unsupported':
        if (desired !== null && this.#schemaRefusalLogged !== desired.digest) {
          this.#schemaRefusalLogged = desired.digest;
          this.#log.warn(
            { seq: desired.seq, digest: desired.digest, schemaVersion: decision.schemaVersion, schemaMin: hello.schemaMin, schemaMax: hello.schemaMax },
            "distribution: schema version outside the node's range, not pushed",
          );
        }
        return;
      case 'wait-pending':
        this.#view = { ...this.#view, queued: decision.queued };
        return;
      case 'backoff':
        this.#retryTimer.start(decision.retryAtMs - nowMs, () => this.evaluate());
        return;
      case 'push':
        if (desired !== null) this.#push(desired, decision.target);
        return;
      default:
        return;
    }
  }

  /** Tell the node to reconnect after `reconnectAfterMs`, then end the stream with OK. */
  async goAway(reconnectAfterMs: number, reason: string): Promise<void> {
    if (this.#closed) return;
    await this.#writer.send([{ msg: { $case: 'goAway', value: { reconnectAfterMs, reason } } }]);
    this.#finish();
    this.#call.end();
  }

  /** A newer stream of the same node took over: end this one without recording a disconnect. */
  supersede(): void {
    this.#superseded = true;
    this.#fail(status.ABORTED, 'superseded by a newer session of the same node');
  }

  #onMessage(message: FromDataPlane): void {
    if (this.#closed) return;
    const msg = message.msg;
    if (this.#hello === null) {
      if (msg?.$case === 'hello') this.#onHello(msg.value);
      else this.#fail(status.FAILED_PRECONDITION, 'the first message must be Hello');
      return;
    }
    switch (msg?.$case) {
      case 'ack':
        this.#onAck(this.#hello, msg.value);
        break;
      case 'nack':
        this.#onNack(this.#hello, msg.value);
        break;
      case 'report':
        this.#onReport(this.#hello, msg.value);
        break;
      case 'hello':
        this.#fail(status.FAILED_PRECONDITION, 'Hello may only be sent once per stream');
        break;
      default:
        break; // Unknown message kind from a newer data plane: ignored.
    }
  }

  #onHello(hello: Hello): void {
    if (!isValidHello(hello)) {
      this.#fail(status.INVALID_ARGUMENT, 'Hello needs node_id, boot_id and a valid scope');
      return;
    }
    if (this.#deps.requireNodeIdentity === true) {
      const verdict = checkPeerIdentity(this.#call, hello);
      if (!verdict.ok) {
        this.#log.warn({ nodeId: hello.nodeId, scope: hello.scope, reason: verdict.reason }, `distribution: node refused: ${verdict.message}`);
        this.#deps.onAuthRefused?.(verdict.reason);
        this.#fail(status.PERMISSION_DENIED, verdict.message);
        return;
      }
    }
    this.#hello = hello;
    this.#log = this.#log.child({ nodeId: hello.nodeId, bootId: hello.bootId, scope: hello.scope });
    const serving = fromWireRef(hello.serving);
    this.#view = { serving, pending: null, queued: null };
    this.#servingSource = fromWireSource(hello.source);
    this.#encoding = chooseEncoding(hello.acceptEncodings);
    this.#deps.parking.enterBoot(hello.nodeId, hello.bootId);
    this.#deps.onIdentified(this);
    this.#deps.recorder.connected(helloFacts(hello, serving, new Date(this.#now())));
    this.#log.info({ servingSeq: serving?.seq, servingDigest: serving?.digest, source: this.#servingSource }, 'distribution: node connected');
    void this.#writer.send([
      {
        msg: {
          $case: 'welcome',
          value: { sessionId: this.sessionId, reportIntervalMs: this.#deps.reportIntervalMs },
        },
      },
    ]);
    this.evaluate();
  }

  #onAck(hello: Hello, ack: Ack): void {
    const applied = fromWireRef(ack.applied);
    const at = new Date(this.#now()); // control-plane clock (see #onReport)
    const effect = afterAck(this.#view, ack.nonce, applied);
    const ref = applied ?? (effect.matched ? this.#view.pending?.target : undefined);
    if (ref) this.#deps.recorder.acked(hello.nodeId, hello.bootId, ref, at);
    this.#log.info({ nonce: ack.nonce, seq: ref?.seq, digest: ref?.digest, current: effect.matched }, 'distribution: ack');
    if (!effect.matched) return;
    this.#view = effect.session;
    this.#servingSource = 'control-plane';
    this.#pushTimer.clear();
    if (ref) this.#deps.parking.release(hello.nodeId, hello.bootId, ref.digest);
    this.evaluate();
  }

  #onNack(hello: Hello, nack: Nack): void {
    const matchedPending = this.#view.pending?.nonce === nack.nonce ? this.#view.pending : null;
    const rejected = fromWireRef(nack.rejected) ?? matchedPending?.target ?? null;
    const stillServing = fromWireRef(nack.stillServing);
    const nowMs = this.#now();
    if (rejected !== null) recordNack(this.#deps, this.#log, hello, nack, rejected, stillServing, nowMs);
    const effect = afterNack(this.#view, nack.nonce, stillServing);
    if (!effect.matched) return;
    this.#view = effect.session;
    this.#pushTimer.clear();
    this.evaluate();
  }

  #onReport(hello: Hello, report: Report): void {
    const serving = fromWireRef(report.serving);
    // The control plane's clock, not the node's: staleness is judged against these times,
    // and a node's clock may be skewed.
    const at = new Date(this.#now());
    this.#deps.recorder.reported(hello.nodeId, hello.bootId, serving, fromWireSource(report.source), at);
    this.#view = afterReport(this.#view, serving);
    this.#servingSource = fromWireSource(report.source);
    this.evaluate();
  }

  /** Sends the snapshot's shared, pre-encoded push under a nonce of this push's own. */
  #push(desired: DesiredSnapshot, target: GenerationRef): void {
    const nonce = randomBytes(12).toString('hex');
    this.#view = afterPush(this.#view, { nonce, target });
    const plan = desired.planFor(this.#encoding);
    const messages = planMessages(plan, nonce);
    this.#log.info(
      { nonce, seq: target.seq, digest: target.digest, bytes: plan.totalSize, encoding: plan.encoding || 'identity', messages: messages.length },
      'distribution: push sent',
    );
    void this.#writer.send(messages);
    this.#deps.onPushSent?.(this, target);
    this.#pushTimer.start(this.#deps.pushTimeoutMs, () => this.#abandon(nonce, target));
  }

  /** No answer in time: free the slot; the next Report or activation decides again. */
  #abandon(nonce: string, target: GenerationRef): void {
    if (this.#closed) return;
    const effect = afterPushTimeout(this.#view, nonce);
    if (!effect.matched) return;
    this.#view = effect.session;
    this.#log.warn(
      { nonce, seq: target.seq, digest: target.digest, timeoutMs: this.#deps.pushTimeoutMs },
      'distribution: push abandoned (no answer)',
    );
    this.#deps.onPushAbandoned?.(this, target);
  }

  #fail(code: status, details: string): void {
    if (this.#closed) return;
    this.#log.warn({ code: status[code], details }, 'distribution: ending stream');
    this.#finish();
    this.#call.emit('error', { code, details });
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#writer.close();
    this.#retryTimer.clear();
    this.#pushTimer.clear();
    this.#deps.onClosed(this);
    const hello = this.#hello;
    if (hello !== null && !this.#superseded) {
      this.#deps.recorder.disconnected(hello.nodeId, hello.bootId, new Date(this.#now()));
      this.#log.info('distribution: node disconnected');
    }
  }
}
