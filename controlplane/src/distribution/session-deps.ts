/**
 * What a ConfigSync session (config-sync-session.ts) is given: its gRPC stream and its ports —
 * where node facts are recorded, what the node should hold (DesiredSources), parking, timing,
 * the counters' callbacks, identity checking and, with span export on, push tracing.
 */
import type { ServerDuplexStream } from '@grpc/grpc-js';
import type { FromDataPlane } from '@spooky/proto';
import type pino from 'pino';
import type { PushTracing } from '../tracing/control-plane-tracing.ts';
import type { DropReason } from './health-windows.ts';
import type { DesiredSources } from './node-desired-state.ts';
import type { NodeAuthReason } from './node-identity.ts';
import type { OutgoingMessage } from './outgoing-messages.ts';
import type { NodeParking } from './parking.ts';
import type { GenerationRef, HealthSink, NodeRecorder } from './ports.ts';

export type SessionCall = ServerDuplexStream<FromDataPlane, OutgoingMessage>;

/** `S` is the session type (S: config-sync-session.ts names `SessionDeps`). */
export interface SessionPorts<S> extends DesiredSources {
  readonly recorder: NodeRecorder;
  /** Receives each Report's valid health windows; absent: they are dropped unread. */
  readonly health?: HealthSink;
  /** Called once per malformed health window dropped (for the counter). */
  readonly onHealthDropped?: (reason: DropReason) => void;
  readonly parking: NodeParking;
  readonly logger: pino.Logger;
  readonly reportIntervalMs: number;
  /** How long a push may stay unanswered before it is abandoned. */
  readonly pushTimeoutMs: number;
  /** Called after each push or Promote is queued for writing (for counters). */
  readonly onPushSent?: (session: S, target: GenerationRef) => void;
  /** Called when a push is abandoned for lack of an answer. */
  readonly onPushAbandoned?: (session: S, target: GenerationRef) => void;
  /** Called once the Hello is accepted; may supersede an older session of the same node. */
  readonly onIdentified: (session: S) => void;
  /** Called once when the stream is over, whatever the reason. */
  readonly onClosed: (session: S) => void;
  readonly now?: () => number;
  /**
   * True when the listener is mutual TLS: each Hello is checked against the peer certificate's
   * identities. False (plaintext loopback dev): no certificate exists, identity is not checked.
   */
  readonly requireNodeIdentity?: boolean;
  /** Called once per Hello refused for its certificate (for the failure counter). */
  readonly onAuthRefused?: (reason: NodeAuthReason) => void;
  /** Called once per NACK recorded (a refused promote is not one), for spooky_cp_nacks_total. */
  readonly onNack?: (scope: string, phase: string) => void;
  /** Span export on: a span per push, ended by the node's answer (tracing/control-plane-tracing.ts). */
  readonly tracing?: PushTracing;
}
