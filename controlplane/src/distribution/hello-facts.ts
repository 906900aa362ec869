/**
 * What a node's Hello tells the control plane: whether it may open a session at all, and the
 * facts the NodeRecorder (ports.ts) keeps about the node, converted from the wire message.
 */
import type { Hello, GenerationRef as WireRef } from '@spooky/proto';
import type { GenerationRef, NodeCandidate, NodeHelloFacts } from './ports.ts';
import type { HeldCandidate } from './push-decision.ts';
import { fromWireRef, fromWireSource } from './wire-refs.ts';

const SCOPE_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** A Hello opens a session only with a node_id, a boot_id and a well-formed scope. */
export function isValidHello(hello: Hello): boolean {
  return hello.nodeId !== '' && hello.bootId !== '' && SCOPE_PATTERN.test(hello.scope);
}

/**
 * `serving` is the Hello's serving ref already converted (fromWireRef); `at` is the control
 * plane's clock, never the node's (a node's clock may be skewed).
 */
export function helloFacts(hello: Hello, serving: GenerationRef | null, at: Date): NodeHelloFacts {
  return {
    nodeId: hello.nodeId,
    bootId: hello.bootId,
    scope: hello.scope,
    labels: { ...hello.labels },
    schemaMin: hello.schemaMin,
    schemaMax: hello.schemaMax,
    build: hello.build,
    serving,
    source: fromWireSource(hello.source),
    candidate: fromWireRef(hello.candidate),
    candidatePercent: hello.candidatePercent,
    at,
  };
}

/** The candidate a Hello or Report says the node holds (absent ref: none), with its share. */
export function heldCandidate(ref: WireRef | undefined, percent: number): HeldCandidate | null {
  const candidate = fromWireRef(ref);
  return candidate === null ? null : { ref: candidate, percent };
}

/** The same candidate as the NodeRecorder records it (ports.ts NodeCandidate), null when none. */
export function recordedCandidate(held: HeldCandidate | null): NodeCandidate | null {
  return held === null ? null : { seq: held.ref.seq, digest: held.ref.digest, percent: held.percent };
}
