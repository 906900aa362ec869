import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { healthUnreadyReason } from './readiness.ts';

const upstreams = [
  { name: 'a', backends: [{ address: 'http://1' }, { address: 'http://2' }] },
  { name: 'b', backends: [{ address: 'http://3' }] },
];

describe('healthUnreadyReason', () => {
  it('ready while any backend of any upstream is available', () => {
    assert.equal(healthUnreadyReason(upstreams, (u, a) => u === 'b' && a === 'http://3'), null);
  });
  it('not ready when every backend is unavailable, saying so', () => {
    assert.equal(healthUnreadyReason(upstreams, () => false), 'every backend is unavailable (3 of 3 unhealthy or ejected)');
  });
});
