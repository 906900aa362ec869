import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalJson, digest } from '@spooky/config';
import { type CacheEntry, encodeCacheEntry, judgeCacheText } from './cache-entry.ts';

const payload = canonicalJson({ version: 1, hello: 'world' });
const NOW = Date.parse('2030-01-02T03:04:05.000Z');
const entry: CacheEntry = { ref: { scope: 'prod', seq: 7, digest: digest(payload) }, payload, savedAtMs: NOW - 1_000 };
const expect = { scope: 'prod', maxAgeMs: 60_000, nowMs: NOW };

describe('cache entry', () => {
  it('round-trips through its text and is usable when intact, ours and young', () => {
    const text = encodeCacheEntry(entry);
    const parsed = JSON.parse(text) as Record<string, unknown>;
    assert.deepEqual(Object.keys(parsed).sort(), ['digest', 'format', 'payload', 'savedAt', 'scope', 'seq']);
    assert.equal(parsed['savedAt'], '2030-01-02T03:04:04.000Z');
    const verdict = judgeCacheText(text, expect);
    assert.ok(verdict.kind === 'usable');
    assert.deepEqual(verdict.entry, entry);
  });

  it('calls truncated text, wrong fields and a digest mismatch corrupt', () => {
    const text = encodeCacheEntry(entry);
    const cases: [string, string, RegExp][] = [
      ['truncated', text.slice(0, Math.floor(text.length / 2)), /not valid JSON/],
      ['empty', '', /not valid JSON/],
      ['array', '[]', /not a JSON object/],
      ['unknown format', text.replace('"format":1', '"format":2'), /unknown format/],
      ['no payload', JSON.stringify({ ...JSON.parse(text), payload: undefined }), /payload missing/],
      ['bad seq', JSON.stringify({ ...JSON.parse(text), seq: -1 }), /seq/],
      ['bad savedAt', JSON.stringify({ ...JSON.parse(text), savedAt: 'yesterday' }), /savedAt/],
      ['bad digest', JSON.stringify({ ...JSON.parse(text), digest: 'md5:x' }), /digest missing or malformed/],
      ['tampered payload', JSON.stringify({ ...JSON.parse(text), payload: payload.replace('world', 'w0rld') }), /differs from the recorded/],
    ];
    for (const [name, bad, reason] of cases) {
      const verdict = judgeCacheText(bad, expect);
      assert.equal(verdict.kind, 'corrupt', name);
      assert.ok(verdict.kind === 'corrupt' && reason.test(verdict.reason), `${name}: ${JSON.stringify(verdict)}`);
    }
  });

  it('calls an old or future-dated file stale and another scope a mismatch', () => {
    const old = judgeCacheText(encodeCacheEntry({ ...entry, savedAtMs: NOW - 61_000 }), expect);
    assert.ok(old.kind === 'stale');
    assert.match(old.reason, /saved 61s ago .* older than the max age 60s/);
    const future = judgeCacheText(encodeCacheEntry({ ...entry, savedAtMs: NOW + 3_600_000 }), expect);
    assert.ok(future.kind === 'stale');
    assert.match(future.reason, /in the future/);
    const slightlyAhead = judgeCacheText(encodeCacheEntry({ ...entry, savedAtMs: NOW + 5_000 }), expect);
    assert.equal(slightlyAhead.kind, 'usable');
    const other = judgeCacheText(encodeCacheEntry(entry), { ...expect, scope: 'dev' });
    assert.ok(other.kind === 'scope-mismatch');
    assert.equal(other.code, 'cache.scope_mismatch');
  });
});
