import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RetryPolicy } from '@spooky/config';
import { decideRetry, type RetryDecision, type RetryFacts } from './decide-retry.ts';

const policy: RetryPolicy = { retry_on: ['connect_failure', 'reset', 'timeout', 502, 503], max_attempts: 3, backoff_base_ms: 25, backoff_max_ms: 250, max_replay_body_bytes: 65_536 };

const ok: RetryFacts = {
  method: 'GET',
  attempts: 1,
  failure: 'connect_failure',
  status: null,
  responseRelayed: false,
  requestSent: false,
  bodyReplayable: true,
  remainingMs: 10_000,
  alternatesLeft: 2,
  clientAborted: false,
  budgetAllows: true,
};

const half = () => 0.5;

test('decideRetry: facts → decision', () => {
  const table: Array<[string, Partial<RetryFacts>, RetryDecision]> = [
    ['connect failure, first attempt', {}, { retry: true, backoffMs: 12 }],
    ['second attempt doubles the ceiling', { attempts: 2 }, { retry: true, backoffMs: 25 }],
    ['reset after the request went out (GET)', { failure: 'reset', requestSent: true }, { retry: true, backoffMs: 12 }],
    ['503 held back', { failure: null, status: 503, requestSent: true }, { retry: true, backoffMs: 12 }],
    ['500 is not in retry_on', { failure: null, status: 500, requestSent: true }, { retry: false, reason: 'not_retryable' }],
    ['a relayed response byte', { failure: 'reset', requestSent: true, responseRelayed: true }, { retry: false, reason: 'not_retryable' }],
    ['POST reset after bytes were sent', { method: 'POST', failure: 'reset', requestSent: true }, { retry: false, reason: 'not_idempotent' }],
    ['POST whose connection never came up', { method: 'POST', failure: 'connect_failure', requestSent: false }, { retry: true, backoffMs: 12 }],
    ['PUT is idempotent', { method: 'PUT', failure: 'timeout', requestSent: true }, { retry: true, backoffMs: 12 }],
    ['body not buffered for replay', { bodyReplayable: false }, { retry: false, reason: 'body_not_replayable' }],
    ['max_attempts reached', { attempts: 3 }, { retry: false, reason: 'max_attempts' }],
    ['no untried backend', { alternatesLeft: 0 }, { retry: false, reason: 'no_alternate' }],
    ['backoff would pass the deadline', { remainingMs: 12 }, { retry: false, reason: 'deadline' }],
    ['budget spent', { budgetAllows: false }, { retry: false, reason: 'budget' }],
    ['client gone first', { clientAborted: true, budgetAllows: false, alternatesLeft: 0 }, { retry: false, reason: 'client_aborted' }],
    ['a refusal for another reason is not a budget refusal', { alternatesLeft: 0, budgetAllows: false }, { retry: false, reason: 'no_alternate' }],
  ];
  for (const [name, facts, expected] of table) assert.deepEqual(decideRetry({ ...ok, ...facts }, policy, half), expected, name);
});

test('backoff is full jitter under min(max, base × 2^(attempts−1)) and never reaches the ceiling', () => {
  const p = { ...policy, max_attempts: 10 };
  for (const [attempts, ceiling] of [[1, 25], [2, 50], [3, 100], [4, 200], [5, 250], [9, 250]] as const) {
    const low = decideRetry({ ...ok, attempts }, p, () => 0);
    const high = decideRetry({ ...ok, attempts }, p, () => 0.999_999);
    assert.deepEqual(low, { retry: true, backoffMs: 0 });
    assert.deepEqual(high, { retry: true, backoffMs: ceiling - 1 }, `attempts ${attempts}`);
  }
});

test('refusals are shared frozen objects (no allocation on the refusal path)', () => {
  const a = decideRetry({ ...ok, budgetAllows: false }, policy, half);
  const b = decideRetry({ ...ok, budgetAllows: false }, policy, half);
  assert.equal(a, b);
  assert.ok(Object.isFrozen(a));
});
