import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '@spooky/config';
import {
  BYTES_PER_ACTIVE_CHECK,
  BYTES_PER_BACKEND,
  BYTES_PER_MATCHER,
  BYTES_PER_PAYLOAD_BYTE,
  BYTES_PER_UPSTREAM,
  countGeneration,
  estimateGenerationBytes,
  OVER_BUDGET_CODE,
  overBudget,
} from './generation-budget.ts';

describe('generation memory budget', () => {
  it('counts upstreams, backends, matchers and actively checked backends', () => {
    const parsed = parseConfig({
      version: 1,
      listen: { address: '127.0.0.1', port: 9889, tls: { cert: 'c.pem', key: 'k.pem' } },
      upstream: {
        a: {
          route: { path_prefix: '/a', headers: [{ name: 'x', exact: '1' }], query: [{ name: 'q', present: true }] },
          backends: [
            { id: 'a1', address: 'http://10.0.0.1:80', health_check: { path: '/h' } },
            { id: 'a2', address: 'http://10.0.0.2:80' },
          ],
        },
        b: { backends: [{ id: 'b1', address: 'http://10.0.0.3:80' }] },
      },
    });
    assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.issues));
    const counts = countGeneration(parsed.config, 1000);
    assert.deepEqual(counts, { payloadBytes: 1000, upstreams: 2, backends: 3, matchers: 2, activeChecks: 1 });
    assert.equal(
      estimateGenerationBytes(counts),
      1000 * BYTES_PER_PAYLOAD_BYTE + 2 * BYTES_PER_UPSTREAM + 3 * BYTES_PER_BACKEND + 2 * BYTES_PER_MATCHER + BYTES_PER_ACTIVE_CHECK,
    );
  });

  it('refuses over the budget with the estimate and the budget in the message', () => {
    const counts = { payloadBytes: 5_000_000, upstreams: 100, backends: 100_000, matchers: 0, activeChecks: 0 };
    assert.equal(overBudget(counts, 1024 * 1048576), null);
    const issue = overBudget(counts, 64 * 1048576);
    assert.ok(issue);
    assert.equal(issue.code, OVER_BUDGET_CODE);
    assert.equal(issue.pointer, '');
    assert.match(issue.message, /estimated 261\.3 MiB .*100000 backends.*budget is 64 MiB \(--max-generation-memory-mb\)/);
    const bytesOnly = overBudget({ payloadBytes: 50_000_000, upstreams: 0, backends: 0, matchers: 0, activeChecks: 0 }, 64 * 1048576);
    assert.match(bytesOnly?.message ?? '', /\(50000000 payload bytes\)/);
  });
});
