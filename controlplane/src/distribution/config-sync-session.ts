/**
 * One ConfigSync stream on the control-plane side: the gRPC I/O shell around the pure push
 * decisions (push-decision.ts) and parking (parking.ts). Wire conversions live in
 * wire-refs.ts and hello-facts.ts, what a Nack records in record-nack.ts, push framing in
 * push-messages.ts (encoded once per generation and shared: push-plan.ts, desired-snapshots.ts).
 *
 * What the node should hold comes from node-desired-state.ts (the scope's active generation,
 * or a staged rollout's assignment of this node) and what to send from sync-decision.ts (a Push
 * SERVE or CANDIDATE, or a Promote of a generation the node holds already).
 *
 * Life: the first message must be Hello (else the stream ends with FAILED_PRECONDITION) →
 * with `requireNodeIdentity`, the client certificate must name the Hello's scope and node id
 * (node-identity.ts; else PERMISSION_DENIED before anything is recorded: no fleet entry, and no
 * later Nack or schema range of that stream counts) → Welcome → Push whenever the desired generation differs from what the node serves → Ack/Nack
 * answer it → Reports keep the node's view fresh. The stream's end, cancellation or error
 * records the node as disconnected (unless a newer stream of the same node superseded it).
 * Sending, the answer deadline (`pushTimeoutMs`) and the push's span are push-outbox.ts's.
 *
 * Log lines (the sends' are push-outbox.ts's): "distribution: promote refused (not held), pushing
 * instead"; "distribution: schema version outside the node's range, not pushed" (once per digest
 * per stream); "distribution: assigned generation does not exist, following the active one" (once
 * per seq per stream); "distribution: malformed health windows dropped" (debug, health-windows.ts).
 */
import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import type { Ack, FromDataPlane, Hello, Nack, Report } from '@spooky/proto';
import type pino from 'pino';
import { forwardHealthWindows } from './health-windows.ts';
import { heldCandidate, helloFacts, isValidHello, recordedCandidate } from './hello-facts.ts';
import { type ResolvedDesired, resolveDesired } from './node-desired-state.ts';
import { OneShotTimer } from './one-shot-timer.ts';
import type { OutgoingMessage } from './outgoing-messages.ts';
import { checkPeerIdentity } from './peer-identity.ts';
import type { NodeServingSource } from './ports.ts';
import { afterPushTimeout, type SessionView } from './push-decision.ts';
import { chooseEncoding, type PushEncoding } from './push-encoding.ts';
import { PushOutbox } from './push-outbox.ts';
import { recordNack } from './record-nack.ts';
import type { SessionCall, SessionPorts } from './session-deps.ts';
import { StreamWriter } from './stream-writer.ts';
import { afterAnswerAck, afterAnswerNack, afterNodeState, afterSend, decideSync } from './sync-decision.ts';
import { fromWireRef, fromWireSource } from './wire-refs.ts';

export type { SessionCall } from './session-deps.ts';

/** The ports a session is given (session-deps.ts). */
export type SessionDeps = SessionPorts<ConfigSyncSession>;

export class ConfigSyncSession {
  readonly sessionId = randomUUID();
  readonly #call: SessionCall;
  readonly #deps: SessionDeps;
  readonly #writer: StreamWriter<OutgoingMessage>;
  readonly #now: () => number;
  #hello: Hello | null = null;
  #log: pino.Logger;
  #view: SessionView = { serving: null, pending: null, queued: null, candidate: null, promoteRefused: null };
  readonly #retryTimer = new OneShotTimer();
  readonly #outbox: PushOutbox<ConfigSyncSession>;
  #servingSource: NodeServingSource = 'none';
  /** Push encoding this node accepts (from its Hello); identity for nodes that list none. */
  #encoding: PushEncoding = '';
  /** Digest whose schema refusal was logged last (log once, not on every Report). */
  #schemaRefusalLogged: string | null = null;
  /** Assigned seq whose absence from the source was logged last (log once). */
  #missingLogged: number | null = null;
  /** The non-active generation this node was last assigned (snapshot retention); null: none. */
  #assignedSeq: number | null = null;
  #closed = false;
  #superseded = false;

  constructor(call: SessionCall, deps: SessionDeps) {
    this.#call = call;
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
    this.#writer = new StreamWriter(call);
    this.#log = deps.logger.child({ sessionId: this.sessionId });
    this.#outbox = new PushOutbox<ConfigSyncSession>(this.#writer, deps, {
      session: this,
      log: () => this.#log,
      sent: (nonce, decision) => {
        this.#view = afterSend(this.#view, nonce, decision);
      },
      abandon: (nonce) => {
        if (this.#closed) return false;
        const effect = afterPushTimeout(this.#view, nonce);
        if (effect.matched) this.#view = effect.session;
        return effect.matched;
      },
    });
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

  /** The seq of the non-active generation this node is assigned, null when none (see GenerationSnapshots.retain). */
  get assignedSeq(): number | null {
    return this.#closed ? null : this.#assignedSeq;
  }

  /** Decide again (activation or assignment changed, answer received, retry time reached) and send if due. */
  evaluate(): void {
    const hello = this.#hello;
    if (this.#closed || hello === null) return;
    let resolved: ResolvedDesired;
    try {
      resolved = resolveDesired(this.#deps, hello.scope, hello.nodeId);
    } catch (err) {
      this.#log.error({ err }, 'distribution: reading the desired generation failed');
      return;
    }
    this.#assignedSeq = resolved.assignedSeq;
    if (resolved.missingSeq !== null && this.#missingLogged !== resolved.missingSeq) {
      this.#missingLogged = resolved.missingSeq;
      this.#log.warn({ seq: resolved.missingSeq }, 'distribution: assigned generation does not exist, following the active one');
    }
    const nowMs = this.#now();
    const decision = decideSync({
      desired: resolved.state,
      session: this.#view,
      parkedOf: (digest) => this.#deps.parking.get(hello.nodeId, hello.bootId, digest),
      nowMs,
      servingSource: this.#servingSource,
      schemaRange: { min: hello.schemaMin, max: hello.schemaMax },
    });
    switch (decision.kind) {
      case 'schema-unsupported': {
        const target = decision.target;
        if (this.#schemaRefusalLogged !== target.digest) {
          this.#schemaRefusalLogged = target.digest;
          this.#log.warn(
            { seq: target.seq, digest: target.digest, schemaVersion: decision.schemaVersion, schemaMin: hello.schemaMin, schemaMax: hello.schemaMax },
            "distribution: schema version outside the node's range, not pushed",
          );
        }
        return;
      }
      case 'wait-pending':
        this.#view = { ...this.#view, queued: decision.queued };
        return;
      case 'backoff':
        this.#retryTimer.start(decision.retryAtMs - nowMs, () => this.evaluate());
        return;
      case 'push': {
        const snapshot = resolved.snapshots.find((snap) => snap.digest === decision.target.digest);
        if (snapshot !== undefined) this.#outbox.push(hello, snapshot, decision, this.#encoding);
        return;
      }
      case 'promote':
        this.#outbox.promote(hello, decision);
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
    this.#view = afterNodeState({ serving, pending: null, queued: null, promoteRefused: null }, serving, heldCandidate(hello.candidate, hello.candidatePercent));
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
    const effect = afterAnswerAck(this.#view, ack.nonce, applied, ack.candidate);
    const ref = applied ?? (effect.matched ? this.#view.pending?.target : undefined);
    // The share of a candidate ACK is the one its push asked for (known only for the current nonce).
    const percent = effect.matched && ack.candidate ? this.#view.pending?.percent : undefined;
    if (ref) this.#deps.recorder.acked(hello.nodeId, hello.bootId, ref, at, ack.candidate, percent);
    this.#log.info({ nonce: ack.nonce, seq: ref?.seq, digest: ref?.digest, candidate: ack.candidate, current: effect.matched }, 'distribution: ack');
    if (!effect.matched) return;
    this.#outbox.answered(ack.nonce)?.acked(ref?.seq ?? null);
    this.#view = effect.session;
    // A candidate is held beside what the node served; where that came from is unchanged.
    if (!ack.candidate) this.#servingSource = 'control-plane';
    if (ref) this.#deps.parking.release(hello.nodeId, hello.bootId, ref.digest);
    this.evaluate();
  }

  #onNack(hello: Hello, nack: Nack): void {
    const matchedPending = this.#view.pending?.nonce === nack.nonce ? this.#view.pending : null;
    const rejected = fromWireRef(nack.rejected) ?? matchedPending?.target ?? null;
    const stillServing = fromWireRef(nack.stillServing);
    const nowMs = this.#now();
    const effect = afterAnswerNack(this.#view, nack.nonce, rejected, stillServing, nack.phase);
    if (effect.refusedPromote) {
      // Not a rejection of the generation: the node does not hold it, so it is pushed instead
      // (neither recorded as a NACK, which would count against a rollout, nor parked).
      this.#log.info({ nonce: nack.nonce, seq: rejected?.seq, digest: rejected?.digest }, 'distribution: promote refused (not held), pushing instead');
    } else if (rejected !== null) {
      recordNack(this.#deps, this.#log, hello, nack, rejected, stillServing, nowMs);
      this.#deps.onNack?.(hello.scope, nack.phase);
    }
    const changed = effect.session !== this.#view;
    this.#view = effect.session;
    if (effect.matched) this.#outbox.answered(nack.nonce)?.nacked({ phase: nack.phase, retryable: nack.retryable, issues: nack.issues.length });
    if (effect.matched || changed) this.evaluate();
  }

  #onReport(hello: Hello, report: Report): void {
    const serving = fromWireRef(report.serving);
    // The control plane's clock, not the node's: staleness is judged against these times,
    // and a node's clock may be skewed.
    const at = new Date(this.#now());
    const held = heldCandidate(report.candidate, report.candidatePercent);
    this.#deps.recorder.reported(hello.nodeId, hello.bootId, serving, fromWireSource(report.source), at, recordedCandidate(held));
    this.#view = afterNodeState(this.#view, serving, held);
    this.#servingSource = fromWireSource(report.source);
    if (report.generationHealth.length > 0) forwardHealthWindows(this.#deps, this.#log, hello.nodeId, hello.scope, report.generationHealth, at);
    this.evaluate();
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
    this.#outbox.close(this.#superseded);
    this.#deps.onClosed(this);
    const hello = this.#hello;
    if (hello !== null && !this.#superseded) {
      this.#deps.recorder.disconnected(hello.nodeId, hello.bootId, new Date(this.#now()));
      this.#log.info('distribution: node disconnected');
    }
  }
}
