/**
 * The two messages the control client writes on its own: the Hello that opens every stream and
 * the periodic Report. Both say what the applier serves right now (generation, source, held
 * candidate and its share); pure builders, the client decides when to write them.
 */
import type { FromDataPlane, GenerationHealth } from '@spooky/proto';
import type { ServingInfo } from './generation-applier.ts';
import { ACCEPTED_ENCODINGS } from './payload-decoding.ts';
import { toWireRef, toWireSource } from './wire-refs.ts';

/** Who this node is, as the Hello states it (ControlClientOptions' identity fields). */
export interface NodeIdentity {
  readonly nodeId: string;
  /** Random per process start; the control plane parks NACKed digests per boot. */
  readonly bootId: string;
  readonly scope: string;
  readonly labels: Record<string, string>;
  readonly schemaMin: number;
  readonly schemaMax: number;
  readonly build: string;
}

export function helloMessage(node: NodeIdentity, serving: ServingInfo | null): FromDataPlane {
  return {
    msg: {
      $case: 'hello',
      value: {
        nodeId: node.nodeId,
        bootId: node.bootId,
        scope: node.scope,
        labels: { ...node.labels },
        schemaMin: node.schemaMin,
        schemaMax: node.schemaMax,
        build: node.build,
        serving: toWireRef(serving?.ref),
        source: toWireSource(serving?.source ?? 'none'),
        acceptEncodings: [...ACCEPTED_ENCODINGS],
        candidate: toWireRef(serving?.candidate?.ref),
        candidatePercent: serving?.candidate?.percent ?? 0,
      },
    },
  };
}

/** `counters` and `health` as ControlClientOptions supplies them (zeros and none when absent). */
export function reportMessage(
  serving: ServingInfo | null,
  counters: { readonly requestsTotal: number; readonly inflight: number },
  health: readonly GenerationHealth[],
): FromDataPlane {
  return {
    msg: {
      $case: 'report',
      value: {
        serving: toWireRef(serving?.ref),
        source: toWireSource(serving?.source ?? 'none'),
        requestsTotal: counters.requestsTotal,
        inflight: counters.inflight,
        atUnixMs: Date.now(),
        candidate: toWireRef(serving?.candidate?.ref),
        candidatePercent: serving?.candidate?.percent ?? 0,
        generationHealth: [...health],
      },
    },
  };
}
