/**
 * The sending half of one ConfigSync session (config-sync-session.ts): writes the Push or
 * Promote the session decided under a fresh nonce, starts its span (span export on) and arms the
 * answer deadline, `pushTimeoutMs`. The node's answer to that nonce disarms it (`answered`); a
 * deadline reached first abandons the send: logged, counted (`onPushAbandoned`), and the next
 * trigger (Report, activation) may send again. The session keeps the SessionView and says, through
 * its OutboxHost, what a send or an abandon does to it; at most one send is outstanding because
 * the session's decisions (sync-decision.ts) send only with no answer pending.
 *
 * Log lines: "distribution: push sent" {nonce, seq, digest, mode, bytes (on the wire), encoding,
 * messages} per push; "distribution: promote sent" {nonce, seq, digest}; "distribution: push
 * abandoned (no answer)" {nonce, seq, digest, timeoutMs}.
 */
import { randomBytes } from 'node:crypto';
import type { Hello } from '@spooky/proto';
import type pino from 'pino';
import type { PushMode, PushSpan } from '../tracing/control-plane-tracing.ts';
import type { DesiredSnapshot } from './desired-snapshots.ts';
import { OneShotTimer } from './one-shot-timer.ts';
import type { OutgoingMessage } from './outgoing-messages.ts';
import type { GenerationRef } from './ports.ts';
import type { PushEncoding } from './push-encoding.ts';
import { promoteMessage } from './push-messages.ts';
import { type PushHow, planMessages } from './push-plan.ts';
import { PushSpanSlot } from './push-span-slot.ts';
import type { SessionPorts } from './session-deps.ts';
import type { StreamWriter } from './stream-writer.ts';
import type { SyncDecision } from './sync-decision.ts';

export type PushDecision = Extract<SyncDecision, { kind: 'push' }>;
export type PromoteDecision = Extract<SyncDecision, { kind: 'promote' }>;

/** What the outbox asks of its session (`S`: the session type handed to the counters' callbacks). */
export interface OutboxHost<S> {
  readonly session: S;
  /** The session's logger now (it gains the node's fields with the Hello). */
  log(): pino.Logger;
  /** Records `nonce` as the send of `decision` awaiting its answer; called before anything is written. */
  sent(nonce: string, decision: PushDecision | PromoteDecision): void;
  /** `nonce`'s deadline passed: frees its slot. False when the stream is over or `nonce` is no longer the pending one (nothing more happens). */
  abandon(nonce: string): boolean;
}

type OutboxPorts<S> = Pick<SessionPorts<S>, 'pushTimeoutMs' | 'onPushSent' | 'onPushAbandoned' | 'tracing'>;

export class PushOutbox<S> {
  readonly #writer: StreamWriter<OutgoingMessage>;
  readonly #ports: OutboxPorts<S>;
  readonly #host: OutboxHost<S>;
  /** Armed while a send waits for its Ack/Nack. */
  readonly #timer = new OneShotTimer();
  /** The span of the send awaiting its answer (span export on). */
  readonly #span = new PushSpanSlot();

  constructor(writer: StreamWriter<OutgoingMessage>, ports: OutboxPorts<S>, host: OutboxHost<S>) {
    this.#writer = writer;
    this.#ports = ports;
    this.#host = host;
  }

  /** Sends the snapshot's shared, pre-encoded push (in `encoding`) under a nonce of this push's own, in the decided mode. */
  push(hello: Hello, snapshot: DesiredSnapshot, decision: PushDecision, encoding: PushEncoding): void {
    const nonce = randomBytes(12).toString('hex');
    const target = decision.target;
    const how: PushHow = decision.how;
    this.#host.sent(nonce, decision);
    const plan = snapshot.planFor(encoding);
    const messages = planMessages(plan, nonce, how);
    const canary = how.mode === 'candidate' ? { canaryPercent: how.canary.percent } : {};
    this.#host.log().info(
      { nonce, seq: target.seq, digest: target.digest, mode: how.mode, ...canary, bytes: plan.totalSize, encoding: plan.encoding || 'identity', messages: messages.length },
      'distribution: push sent',
    );
    this.#startSpan(hello, nonce, target, how.mode);
    void this.#writer.send(messages);
    this.#armed(nonce, target);
  }

  /** Tells the node to serve a generation it holds already; answered like a push (deadline included). */
  promote(hello: Hello, decision: PromoteDecision): void {
    const nonce = randomBytes(12).toString('hex');
    const target = decision.target;
    this.#host.sent(nonce, decision);
    this.#host.log().info({ nonce, seq: target.seq, digest: target.digest }, 'distribution: promote sent');
    this.#startSpan(hello, nonce, target, 'promote');
    void this.#writer.send([promoteMessage(nonce, target)]);
    this.#armed(nonce, target);
  }

  /** The answer to the pending send (`nonce`) arrived: disarms the deadline; its span, null when none is open for `nonce`. */
  answered(nonce: string): PushSpan | null {
    this.#timer.clear();
    return this.#span.take(nonce);
  }

  /** The stream is over: disarms the deadline and ends an open span. */
  close(superseded: boolean): void {
    this.#timer.clear();
    this.#span.takeAny()?.ended(superseded ? 'superseded' : 'closed');
  }

  #armed(nonce: string, target: GenerationRef): void {
    this.#ports.onPushSent?.(this.#host.session, target);
    this.#timer.start(this.#ports.pushTimeoutMs, () => this.#abandon(nonce, target));
  }

  /** No answer in time: free the slot; the next Report or activation decides again. */
  #abandon(nonce: string, target: GenerationRef): void {
    if (!this.#host.abandon(nonce)) return;
    this.#span.take(nonce)?.ended('abandoned');
    this.#host.log().warn({ nonce, seq: target.seq, digest: target.digest, timeoutMs: this.#ports.pushTimeoutMs }, 'distribution: push abandoned (no answer)');
    this.#ports.onPushAbandoned?.(this.#host.session, target);
  }

  #startSpan(hello: Hello, nonce: string, target: GenerationRef, mode: PushMode): void {
    if (this.#ports.tracing === undefined) return;
    this.#span.start(this.#ports.tracing, { scope: hello.scope, nodeId: hello.nodeId, bootId: hello.bootId, seq: target.seq, digest: target.digest, nonce, mode });
  }
}
