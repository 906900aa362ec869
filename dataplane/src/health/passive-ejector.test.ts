import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyTraffic } from './passive-ejector.ts';

describe('classifyTraffic', () => {
  it('5xx and upstream transport errors fail; 4xx and client aborts are neutral; the rest succeed', () => {
    assert.equal(classifyTraffic({ kind: 'response', status: 200 }).verdict, 'success');
    assert.equal(classifyTraffic({ kind: 'response', status: 301 }).verdict, 'success');
    assert.equal(classifyTraffic({ kind: 'response', status: 404 }).verdict, 'neutral');
    assert.equal(classifyTraffic({ kind: 'response', status: 502 }).verdict, 'failure');
    for (const code of ['upstream_connect_failed', 'upstream_tls_failed', 'upstream_timeout', 'upstream_protocol_error'] as const) {
      assert.equal(classifyTraffic({ kind: 'error', code }).verdict, 'failure', code);
    }
    assert.equal(classifyTraffic({ kind: 'error', code: 'client_aborted' }).verdict, 'neutral');
    assert.equal(classifyTraffic({ kind: 'error', code: 'internal' }).verdict, 'neutral');
  });
});
