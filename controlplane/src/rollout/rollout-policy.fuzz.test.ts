/**
 * Fuzz of the rollout policy validator: any JSON value, and near-valid documents with one member
 * replaced by anything. Properties: it never throws; a refusal carries issues whose pointers are
 * JSON Pointers into the input; an accepted policy keeps the structural rules (last stage is the
 * whole fleet, label-free percents never shrink) and is a fixed point (parsing it again gives it back).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { fuzzRuns } from '../testing/fuzz-runs.ts';
import { DEFAULT_ROLLOUT_POLICY, parseRolloutPolicy } from './rollout-policy.ts';

const POINTER = /^(\/([^~/]|~[01])*)*$/;

/** The default policy with one member at `path` replaced by `value`. */
function replaced(path: readonly (string | number)[], value: unknown): unknown {
  const doc = JSON.parse(JSON.stringify(DEFAULT_ROLLOUT_POLICY)) as Record<string, unknown>;
  let at: Record<string | number, unknown> = doc;
  for (const key of path.slice(0, -1)) at = at[key] as Record<string | number, unknown>;
  at[path[path.length - 1]!] = value;
  return doc;
}

const PATHS: ReadonlyArray<readonly (string | number)[]> = [
  ['version'],
  ['stages'],
  ['stages', 0],
  ['stages', 1, 'percent'],
  ['stages', 0, 'labels'],
  ['stages', 2, 'soak_ms'],
  ['gates'],
  ['gates', 'ack_quorum'],
  ['gates', 'health'],
  ['gates', 'health', 'p99'],
  ['canary', 'percent'],
  ['freeze_after'],
  ['extra'],
];

const input = fc.oneof(
  fc.jsonValue({ maxDepth: 5 }),
  fc.tuple(fc.constantFrom(...PATHS), fc.jsonValue({ maxDepth: 3 })).map(([path, v]) => replaced(path, v)),
);

describe('parseRolloutPolicy fuzz', () => {
  it('never throws; issues point into the input; accepted policies are well formed fixed points', () => {
    fc.assert(
      fc.property(input, (doc) => {
        const result = parseRolloutPolicy(doc);
        if (!result.ok) {
          assert.ok(result.issues.length > 0);
          for (const issue of result.issues) {
            assert.match(issue.pointer, POINTER);
            assert.match(issue.code, /^rollout\.[a-z_.]+$/);
          }
          return;
        }
        const { stages } = result.policy;
        const last = stages[stages.length - 1];
        assert.ok(last !== undefined && last.percent === 100 && Object.keys(last.labels).length === 0);
        let widest = 0;
        for (const s of stages) {
          if (Object.keys(s.labels).length > 0) continue;
          assert.ok(s.percent >= widest);
          widest = s.percent;
        }
        assert.deepEqual(parseRolloutPolicy(JSON.parse(JSON.stringify(result.policy))), result);
      }),
      { numRuns: fuzzRuns(300) },
    );
  });
});
