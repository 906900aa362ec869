/**
 * What the control plane does with a Nack that names a generation, whether or not it answers
 * the session's pending push: record it for the fleet view, park the digest for the node's
 * boot (parking.ts: no retry of a non-retryable rejection, backoff for a retryable one), and
 * log "distribution: nack, digest parked for this boot". Clearing the pending push is the
 * session's business (push-decision.ts afterNack).
 */
import type { Hello, Nack } from '@spooky/proto';
import type pino from 'pino';
import type { NodeParking } from './parking.ts';
import type { GenerationRef, NodeRecorder } from './ports.ts';
import { fromWireIssues } from './wire-refs.ts';

export interface NackSinks {
  readonly recorder: NodeRecorder;
  readonly parking: NodeParking;
}

/**
 * `rejected` is the generation refused (the Nack's own ref, else the pending push's target),
 * `stillServing` the Nack's converted still_serving ref, `nowMs` the control plane's clock.
 */
export function recordNack(
  sinks: NackSinks,
  log: pino.Logger,
  hello: Hello,
  nack: Nack,
  rejected: GenerationRef,
  stillServing: GenerationRef | null,
  nowMs: number,
): void {
  sinks.recorder.nacked({
    nodeId: hello.nodeId,
    bootId: hello.bootId,
    nonce: nack.nonce,
    rejected,
    stillServing,
    phase: nack.phase,
    retryable: nack.retryable,
    issues: fromWireIssues(nack.issues),
    at: new Date(nowMs),
  });
  const parked = sinks.parking.park(hello.nodeId, hello.bootId, rejected.digest, nack.retryable, nowMs);
  log.info(
    {
      nonce: nack.nonce,
      seq: rejected.seq,
      digest: rejected.digest,
      phase: nack.phase,
      retryable: parked.retryable,
      failures: parked.failures,
      issues: nack.issues.length,
    },
    'distribution: nack, digest parked for this boot',
  );
}
