import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalJson, digest } from '@spooky/config';
import { MAX_NACK_ISSUES } from '@spooky/proto';
import type { ApplyResult, GenerationApplier, GenerationRef } from './generation-applier.ts';
import { answerPush } from './push-answer.ts';

const payload = Buffer.from(canonicalJson({ hello: 'world' }));
const target: GenerationRef = { scope: 's', seq: 2, digest: digest(payload) };
const old: GenerationRef = { scope: 's', seq: 1, digest: digest('old') };

function applier(result: ApplyResult | Error): GenerationApplier & { calls: number } {
  return {
    calls: 0,
    serving: () => ({ ref: old, source: 'control-plane' }),
    async apply() {
      this.calls++;
      if (result instanceof Error) throw result;
      return result;
    },
    hold: async () => ({ ok: true }),
    promote: async () => ({ ok: true }),
    dropCandidate: async () => undefined,
  };
}

describe('answerPush', () => {
  it('acks after a successful apply', async () => {
    const a = applier({ ok: true });
    const answer = await answerPush(a, 'n', target, payload, () => 42);
    assert.deepEqual(answer.msg, { $case: 'ack', value: { nonce: 'n', applied: target, servingAtUnixMs: 42, candidate: false } });
  });

  it('holds a candidate push and acks it with candidate: true', async () => {
    const held: string[] = [];
    const hold = async (_p: Uint8Array, ref: GenerationRef): Promise<ApplyResult> => {
      held.push(ref.digest);
      return { ok: true };
    };
    const a = { ...applier({ ok: true }), hold };
    const answer = await answerPush(a, 'n', target, payload, () => 7, { candidateDigest: target.digest, percent: 5 });
    assert.deepEqual(answer.msg, { $case: 'ack', value: { nonce: 'n', applied: target, servingAtUnixMs: 7, candidate: true } });
    assert.deepEqual(held, [target.digest]);
    assert.equal(a.calls, 0, 'apply is not called for a candidate');
  });

  it('nacks a digest mismatch (retryable) without calling the applier', async () => {
    const a = applier({ ok: true });
    const answer = await answerPush(a, 'n', { ...target, digest: digest('other') }, payload);
    assert.ok(answer.msg?.$case === 'nack');
    assert.equal(answer.msg.value.phase, 'digest');
    assert.equal(answer.msg.value.retryable, true);
    assert.deepEqual(answer.msg.value.stillServing, old);
    assert.equal(a.calls, 0);
  });

  it("carries the applier's phase and at most MAX_NACK_ISSUES issues", async () => {
    const issues = Array.from({ length: 80 }, (_, i) => ({ pointer: `/x/${i}`, code: 'c', message: 'm' }));
    const a = applier({ ok: false, phase: 'compile', retryable: false, issues });
    const answer = await answerPush(a, 'n', target, payload);
    assert.ok(answer.msg?.$case === 'nack');
    assert.equal(answer.msg.value.phase, 'compile');
    assert.equal(answer.msg.value.retryable, false);
    assert.equal(answer.msg.value.issues.length, MAX_NACK_ISSUES);
    assert.deepEqual(answer.msg.value.rejected, target);
  });

  it('turns a throwing applier into a retryable apply nack', async () => {
    const answer = await answerPush(applier(new Error('secret detail')), 'n', target, payload);
    assert.ok(answer.msg?.$case === 'nack');
    assert.equal(answer.msg.value.phase, 'apply');
    assert.doesNotMatch(JSON.stringify(answer), /secret detail/);
  });
});
