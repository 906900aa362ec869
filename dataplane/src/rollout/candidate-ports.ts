/**
 * Ports between the in-node canary's monitor (rollout/, which measures each generation's
 * requests) and the process that holds the candidate (apply/ + control/, which swap and answer
 * the control plane). Wired in bootstrap.
 */
import type { RegressionFinding } from './in-node-canary.ts';

export interface CanaryFallback {
  /**
   * The monitor saw the candidate `candidateDigest` regress on this node: serve the serving
   * generation only and NACK the candidate (phase "canary", one issue per finding, codes
   * `canary.<rule>`, with the numbers in the message). The NACK is sent once the stream is up
   * (the control plane may be unreachable). A no-op when that candidate is no longer held.
   */
  fallBack(candidateDigest: string, findings: readonly RegressionFinding[]): void;
}
