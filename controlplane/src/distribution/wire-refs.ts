/**
 * Conversions between the ConfigSync wire messages (@spooky/proto) and the distribution ports.
 * The wire uses empty strings / absent messages for "nothing"; the ports use null.
 */
import type { ConfigIssue } from '@spooky/config';
import {
  ServingSource,
  type ConfigIssue as WireIssue,
  type GenerationRef as WireRef,
} from '@spooky/proto';
import type { GenerationRef, NodeServingSource } from './ports.ts';

export function toWireRef(ref: GenerationRef): WireRef {
  return { scope: ref.scope, seq: ref.seq, digest: ref.digest };
}

/** An absent ref, or one without a digest, means "serves nothing". */
export function fromWireRef(ref: WireRef | undefined): GenerationRef | null {
  if (ref === undefined || ref.digest === '') return null;
  return { scope: ref.scope, seq: ref.seq, digest: ref.digest };
}

export function fromWireSource(source: ServingSource): NodeServingSource {
  switch (source) {
    case ServingSource.SERVING_SOURCE_CONTROL_PLANE:
      return 'control-plane';
    case ServingSource.SERVING_SOURCE_DISK_CACHE:
      return 'disk-cache';
    case ServingSource.SERVING_SOURCE_LOCAL_FILE:
      return 'local-file';
    default:
      return 'none';
  }
}

/** Issues kept from one NACK, and the length kept of each of their strings. */
export const MAX_NACK_ISSUES = 100;
export const MAX_NACK_ISSUE_TEXT = 1024;

/**
 * A NACK's issues as stored and shown by the node views: a data plane (or whatever speaks on
 * the gRPC port) decides their number and length, so both are capped here, at the boundary.
 */
export function fromWireIssues(issues: readonly WireIssue[]): ConfigIssue[] {
  const cut = (text: string): string => (text.length > MAX_NACK_ISSUE_TEXT ? `${text.slice(0, MAX_NACK_ISSUE_TEXT)}…` : text);
  return issues.slice(0, MAX_NACK_ISSUES).map((i) => ({ pointer: cut(i.pointer), code: cut(i.code), message: cut(i.message) }));
}

/** Two refs name the same generation content when their digests match (seq may differ only by dedupe). */
export function sameDigest(a: GenerationRef | null, b: GenerationRef | null): boolean {
  return a !== null && b !== null && a.digest === b.digest;
}
