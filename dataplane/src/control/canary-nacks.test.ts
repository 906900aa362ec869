import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FromDataPlane } from '@spooky/proto';
import { CanaryNacks, findingIssue } from './canary-nacks.ts';

const ref = { scope: 's', seq: 2, digest: 'sha256:c' };
const issues = [{ pointer: '', code: 'canary.crashed', message: 'm' }];
const build = (nonce: string): FromDataPlane => ({
  msg: { $case: 'nack', value: { nonce, rejected: ref, stillServing: undefined, phase: 'canary', retryable: false, issues } },
});
const nonces = (ms: FromDataPlane[]) => ms.map((m) => (m.msg?.$case === 'nack' ? m.msg.value.nonce : '?'));

describe('CanaryNacks', () => {
  it('hands a NACK once per stream, again on a new stream until one lived two ticks after the write', () => {
    const n = new CanaryNacks<string>();
    n.held(ref.digest, 'p2');
    n.queue(ref, issues, build);
    assert.deepEqual(nonces(n.due('a')), ['p2'], 'the nonce of the push that delivered the candidate');
    assert.deepEqual(n.due('a'), [], 'not twice on one stream');
    n.tick('a');
    // Stream a dies after one tick: b gets it again.
    assert.deepEqual(nonces(n.due('b')), ['p2']);
    n.tick('b');
    n.tick('b');
    assert.deepEqual(n.due('c'), [], 'delivered: b lived two ticks after the write');
  });

  it('remembers a fall-back for the process: the refusal carries the issues', () => {
    const n = new CanaryNacks<string>();
    assert.equal(n.refusal(ref.digest), undefined);
    n.queue(ref, issues, build);
    assert.deepEqual(n.refusal(ref.digest), issues);
    assert.deepEqual(nonces(n.due('a')), [''], 'no push nonce known: empty');
  });

  it('findingIssue names the rule and the numbers', () => {
    const issue = findingIssue({ rule: 'p99_factor', observed: 412.123456, limit: 200 }, 'node-7');
    assert.equal(issue.code, 'canary.p99_factor');
    assert.match(issue.message, /412\.1235 ms above the limit 200 ms on node node-7/);
  });
});
