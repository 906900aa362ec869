/**
 * The data plane's ConfigSync client: one bidi stream to the control plane for the life of the
 * process, re-opened after any loss. main.ts creates it with the GenerationApplier and calls
 * start(); stop() on shutdown.
 *
 * On each stream: Hello (what the applier serves now) → Welcome (report interval) → periodic
 * Reports; every Push is reassembled, digest-checked and applied one at a time, in arrival
 * order, then answered with Ack or Nack. Losing the stream never touches the applier: the
 * process keeps serving its generation while it reconnects with jittered backoff.
 *
 * Transport: mutual TLS with `tls` (the control plane's CA, this node's certificate and key;
 * bootstrap/control-tls.ts decides when it is required), else plaintext. A refused identity
 * (PERMISSION_DENIED: the certificate does not name this scope or node id) is logged as an
 * error with the control plane's reason and retried with backoff like any other loss, so a
 * certificate fixed on the control plane's side (a new CA) is picked up without a restart.
 *
 * Staged rollouts (docs/rollout.md §5): a CANDIDATE push is held beside the serving generation
 * (Ack.candidate = true); a SERVE push applies as before and drops any candidate. A Promote of
 * the held candidate promotes it; a Promote of the serving generation drops the candidate
 * beside it (a rollback without a transfer); any other target is NACKed (phase "transfer",
 * retryable: the control plane pushes it instead). Hello and Report carry the candidate and
 * its share. The client is also the node's CanaryFallback: `fallBack` drops the candidate and
 * NACKs it (phase "canary", non-retryable, `canary.<rule>` issues with the numbers);
 * `nackCandidate` NACKs one the node fell back from at start (crash window). Such NACKs are
 * queued while the stream is down and sent right after the next Hello; one written on a stream
 * that is lost before it lived a whole report interval more is sent again after the next
 * Hello (at least once: the control plane may see it twice). A digest that fell back is never
 * held again by this process: a re-push of it as a candidate gets the same NACK.
 *
 * The answers are built by push-answer.ts and promote-answer.ts, the Hello and the Report by
 * session-messages.ts; this file owns the stream, its timers and the order of the steps.
 */
import { type ClientDuplexStream, credentials, type ServiceError, status } from '@grpc/grpc-js';
import type { ConfigIssue } from '@spooky/config';
import {
  CONFIG_SYNC_FLOW_CONTROL_WINDOW,
  ConfigSyncClient,
  type FromControlPlane,
  type FromDataPlane,
  type GenerationHealth,
  MAX_MESSAGE_BYTES,
} from '@spooky/proto';
import type pino from 'pino';
import type { CanaryFallback } from '../rollout/candidate-ports.ts';
import { CanaryNacks, findingIssue } from './canary-nacks.ts';
import { type AssemblyResult, ChunkAssembler } from './chunk-assembler.ts';
import type { GenerationApplier, GenerationRef } from './generation-applier.ts';
import { answerPromote } from './promote-answer.ts';
import { answerPush, nack } from './push-answer.ts';
import { reconnectDelayMs } from './reconnect-backoff.ts';
import { helloMessage, type NodeIdentity, reportMessage } from './session-messages.ts';
import { fromWireRef } from './wire-refs.ts';

type Stream = ClientDuplexStream<FromDataPlane, FromControlPlane>;

/** Used when the Welcome carries no report interval. */
const FALLBACK_REPORT_INTERVAL_MS = 10_000;

export interface ControlClientOptions extends NodeIdentity {
  /** host:port of the control plane's ConfigSync server. */
  readonly address: string;
  readonly applier: GenerationApplier;
  readonly logger: pino.Logger;
  /** Traffic counters for Reports; zeros when not given. */
  readonly counters?: () => { readonly requestsTotal: number; readonly inflight: number };
  /**
   * Health windows closed since the previous call, per generation served (rollout/), sent in
   * each Report's generation_health; none when not given.
   */
  readonly health?: () => readonly GenerationHealth[];
  /** PEM material for mutual TLS, asked for before every connection attempt (renewed files apply on reconnect); absent = plaintext. */
  readonly tls?: () => { readonly ca: Buffer; readonly cert: Buffer; readonly key: Buffer };
}

export interface ControlClient extends CanaryFallback {
  /** Opens the stream; reconnects by itself until stop(). Idempotent. */
  start(): void;
  /**
   * NACKs `rejected` (phase "canary", non-retryable, `issues`) after the next Hello, and refuses
   * to hold it again in this process: the node fell back from it without holding it (crash
   * window at start).
   */
  nackCandidate(rejected: GenerationRef, issues: readonly ConfigIssue[]): void;
  /** Ends the stream, cancels timers and closes the channel. The applier keeps serving. */
  stop(): Promise<void>;
}

export function createControlClient(opts: ControlClientOptions): ControlClient {
  const log = opts.logger.child({ component: 'control-client', nodeId: opts.nodeId, bootId: opts.bootId });
  let running = false;
  let client: ConfigSyncClient | null = null;
  let stream: Stream | null = null;
  let reportTimer: NodeJS.Timeout | null = null;
  let reconnectTimer: NodeJS.Timeout | null = null;
  /** Failed attempts since the last Welcome. */
  let attempt = 0;
  let goAwayHintMs: number | null = null;
  /** Pushes are applied strictly one after another, in arrival order. */
  let applying: Promise<void> = Promise.resolve();
  /** The stream whose Hello is written: canary NACKs may follow it. */
  let greeted: Stream | null = null;
  const canaryNacks = new CanaryNacks<Stream>();

  /** Runs `work` after every apply, hold and promote before it; the chain survives a failure. */
  const serially = (work: () => Promise<void>): void => {
    applying = applying.catch(() => undefined).then(work);
  };

  const send = (s: Stream, message: FromDataPlane): void => {
    if (stream === s && !s.writableEnded && !s.destroyed) s.write(message);
  };

  const flushCanaryNacks = (): void => {
    const s = stream;
    if (s === null || greeted !== s || s.writableEnded || s.destroyed) return;
    for (const message of canaryNacks.due(s)) s.write(message);
  };

  const queueCanaryNack = (rejected: GenerationRef, issues: readonly ConfigIssue[]): void => {
    canaryNacks.queue(rejected, issues, (nonce) => nack(opts.applier, nonce, rejected, 'canary', false, issues));
    log.warn({ seq: rejected.seq, digest: rejected.digest, issues }, 'control: candidate fell back (nack queued)');
    flushCanaryNacks();
  };

  const report = (s: Stream): void => {
    canaryNacks.tick(s);
    send(s, reportMessage(opts.applier.serving(), opts.counters?.() ?? { requestsTotal: 0, inflight: 0 }, opts.health?.() ?? []));
  };

  const onAssembly = (s: Stream, result: AssemblyResult): void => {
    if (result.kind === 'partial' || result.kind === 'ignored') return;
    if (result.kind === 'failed') {
      log.warn({ nonce: result.nonce, reason: result.reason }, 'control: push transfer broken');
      const issue = { pointer: '', code: 'transfer.broken', message: result.reason };
      send(s, nack(opts.applier, result.nonce, result.target, 'transfer', true, [issue]));
      return;
    }
    const { nonce, target, payload, canary } = result;
    // The chain survives a failed step: one broken apply must not stop later pushes.
    serially(async () => {
      const started = Date.now();
      const refused = canary !== null ? canaryNacks.refusal(target.digest) : undefined;
      if (refused !== undefined) {
        log.warn({ nonce, seq: target.seq, digest: target.digest }, 'control: candidate fell back earlier in this boot (nack)');
        send(s, nack(opts.applier, nonce, target, 'canary', false, refused));
        return;
      }
      const answer = await answerPush(opts.applier, nonce, target, payload, Date.now, canary);
      if (canary !== null && answer.msg?.$case === 'ack') canaryNacks.held(target.digest, nonce);
      const fields = { nonce, seq: target.seq, digest: target.digest, ms: Date.now() - started };
      if (answer.msg?.$case === 'nack') {
        const { phase, retryable, issues } = answer.msg.value;
        log.warn({ ...fields, phase, retryable, issues: issues.length }, 'control: generation rejected (nack)');
      } else {
        log.info({ ...fields, candidate: canary !== null }, canary !== null ? 'control: candidate held (ack)' : 'control: generation applied (ack)');
      }
      // An answer for a stream that is gone is dropped: the next Hello says what we serve.
      send(s, answer);
    });
  };

  const onPromote = (s: Stream, nonce: string, target: GenerationRef | null): void => {
    serially(async () => send(s, await answerPromote(opts.applier, nonce, target, (digest) => canaryNacks.forget(digest), log)));
  };

  const onMessage = (s: Stream, assembler: ChunkAssembler, message: FromControlPlane): void => {
    if (stream !== s) return;
    const msg = message.msg;
    switch (msg?.$case) {
      case 'welcome': {
        attempt = 0;
        goAwayHintMs = null;
        const interval = msg.value.reportIntervalMs > 0 ? msg.value.reportIntervalMs : FALLBACK_REPORT_INTERVAL_MS;
        log.info({ sessionId: msg.value.sessionId, reportIntervalMs: interval }, 'control: session established');
        if (reportTimer !== null) clearInterval(reportTimer);
        reportTimer = setInterval(() => report(s), interval);
        reportTimer.unref();
        return;
      }
      case 'push':
        log.info(
          { nonce: msg.value.nonce, seq: msg.value.target?.seq, digest: msg.value.target?.digest, chunks: msg.value.chunkCount },
          'control: push received',
        );
        onAssembly(s, assembler.push(msg.value));
        return;
      case 'chunk':
        onAssembly(s, assembler.chunk(msg.value));
        return;
      case 'promote':
        log.info({ nonce: msg.value.nonce, seq: msg.value.target?.seq, digest: msg.value.target?.digest }, 'control: promote received');
        onPromote(s, msg.value.nonce, fromWireRef(msg.value.target));
        return;
      case 'goAway':
        log.info({ reconnectAfterMs: msg.value.reconnectAfterMs, reason: msg.value.reason }, 'control: goaway');
        goAwayHintMs = msg.value.reconnectAfterMs;
        return;
      default:
        return;
    }
  };

  const lost = (s: Stream, err: ServiceError | null): void => {
    if (stream !== s) return;
    stream = null;
    if (reportTimer !== null) clearInterval(reportTimer);
    reportTimer = null;
    if (!s.writableEnded) s.end();
    client?.close();
    client = null;
    if (!running) return;
    const delay = reconnectDelayMs(attempt, Math.random(), goAwayHintMs);
    attempt += 1;
    goAwayHintMs = null;
    if (err?.code === status.PERMISSION_DENIED) {
      log.error({ code: err.code, details: err.details, delayMs: delay }, 'control: refused by the control plane (node identity), retrying');
    } else {
      log.warn({ code: err?.code, details: err?.details, delayMs: delay }, 'control: stream lost, reconnecting');
    }
    reconnectTimer = setTimeout(() => {
      reconnectTimer = null;
      connect();
    }, delay);
    reconnectTimer.unref();
  };

  const connect = (): void => {
    if (!running) return;
    // A fresh channel per attempt: the attempt timing is ours, not the channel's own backoff.
    const tls = opts.tls?.();
    client = new ConfigSyncClient(opts.address, tls ? credentials.createSsl(tls.ca, tls.key, tls.cert) : credentials.createInsecure(), {
      'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
      'grpc.keepalive_time_ms': 20_000,
      'grpc.keepalive_timeout_ms': 10_000,
      'grpc-node.flow_control_window': CONFIG_SYNC_FLOW_CONTROL_WINDOW,
    });
    const s = client.session();
    stream = s;
    const assembler = new ChunkAssembler();
    s.on('data', (message: FromControlPlane) => onMessage(s, assembler, message));
    s.on('error', (err: ServiceError) => lost(s, err));
    s.on('end', () => lost(s, null));
    // Hello says what we serve, so it waits for applies still running from the previous
    // stream: a push received just before a disconnect must count, or the control plane
    // would push it again.
    void applying.then(
      () => sendHello(s),
      () => sendHello(s),
    );
  };

  const sendHello = (s: Stream): void => {
    if (stream !== s || s.writableEnded || s.destroyed) return;
    s.write(helloMessage(opts, opts.applier.serving()));
    greeted = s;
    flushCanaryNacks();
  };

  return {
    fallBack(candidateDigest, findings) {
      serially(async () => {
        const held = opts.applier.serving()?.candidate?.ref ?? null;
        if (held === null || held.digest !== candidateDigest) return;
        await opts.applier.dropCandidate();
        queueCanaryNack(held, findings.map((f) => findingIssue(f, opts.nodeId)));
      });
    },
    nackCandidate(rejected, issues) {
      queueCanaryNack(rejected, issues);
    },
    start() {
      if (running) return;
      running = true;
      log.info({ address: opts.address, scope: opts.scope }, 'control: connecting');
      connect();
    },
    async stop() {
      running = false;
      if (reconnectTimer !== null) clearTimeout(reconnectTimer);
      reconnectTimer = null;
      const s = stream;
      if (s !== null) {
        lost(s, null);
        s.cancel();
      }
      client?.close();
      client = null;
    },
  };
}
