import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NodeHistoryEntry } from '../generations/lifecycle-ports.ts';
import { answerFor } from './rollout-facts.ts';

const T = Date.parse('2026-01-01T00:00:00Z');
function e(kind: NodeHistoryEntry['kind'], digest: string | null, offsetMs: number, phase: string | null = null): NodeHistoryEntry {
  return { kind, bootId: 'b', seq: digest === null ? null : 1, digest, phase, at: new Date(T + offsetMs).toISOString() };
}

describe('answerFor: the latest answer to the target digest since the rollout started (history newest first)', () => {
  const cases: ReadonlyArray<{ name: string; history: NodeHistoryEntry[]; want: unknown }> = [
    { name: 'nothing', history: [], want: { kind: 'none' } },
    { name: 'an ACK of the target', history: [e('acked', 'd9', 5)], want: { kind: 'ack', atMs: T + 5 } },
    { name: 'an ACK of another digest', history: [e('acked', 'd8', 5)], want: { kind: 'none' } },
    { name: 'an ACK before the rollout started', history: [e('acked', 'd9', -5)], want: { kind: 'none' } },
    { name: 'a NACK of the target', history: [e('nacked', 'd9', 5, 'compile')], want: { kind: 'nack', atMs: T + 5 } },
    {
      name: 'ACKed, then NACKed by its in-node canary → nack',
      history: [e('nacked', 'd9', 9, 'canary'), e('acked', 'd9', 5)],
      want: { kind: 'nack', atMs: T + 9 },
    },
    { name: 'NACKed, then ACKed (a retry) → ack', history: [e('acked', 'd9', 9), e('nacked', 'd9', 5, 'apply')], want: { kind: 'ack', atMs: T + 9 } },
    {
      name: 'a retryable transfer NACK is skipped',
      history: [e('nacked', 'd9', 9, 'transfer'), e('acked', 'd9', 5)],
      want: { kind: 'ack', atMs: T + 5 },
    },
    { name: 'disconnects are not answers', history: [e('disconnected', null, 9)], want: { kind: 'none' } },
    { name: 'a Hello serving the target is an ACK (its ACK was lost with a restart)', history: [e('disconnected', null, 9), e('connected', 'd9', 5)], want: { kind: 'ack', atMs: T + 5 } },
    { name: 'a Hello serving another digest is no answer', history: [e('connected', 'd8', 5)], want: { kind: 'none' } },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(answerFor(c.history, 'd9', T), c.want));
});
