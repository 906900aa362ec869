import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { canonicalJson, digest } from '@spooky/config';
import pino from 'pino';
import type { ApplyResult, GenerationApplier, GenerationRef, ServingSource } from '../control/generation-applier.ts';
import { withGenerationCache } from './caching-applier.ts';
import { startColdStart } from './cold-start.ts';
import { createGenerationCache } from './generation-cache.ts';

const logger = pino({ level: 'silent' });
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Serves what applied last; can be held (apply waits) or told to reject. */
class FakeApplier implements GenerationApplier {
  readonly calls: { seq: number; source: ServingSource }[] = [];
  reject: ApplyResult | null = null;
  #serving: { ref: GenerationRef; source: ServingSource } | null = null;
  serving() {
    return this.#serving;
  }
  async apply(_payload: Uint8Array, ref: GenerationRef, source: ServingSource): Promise<ApplyResult> {
    this.calls.push({ seq: ref.seq, source });
    if (this.reject) return this.reject;
    this.#serving = { ref, source };
    return { ok: true };
  }
  async hold(): Promise<ApplyResult> {
    return { ok: false, phase: 'apply', retryable: false, issues: [] };
  }
  async promote(): Promise<ApplyResult> {
    return { ok: false, phase: 'apply', retryable: true, issues: [] };
  }
  async dropCandidate(): Promise<void> {}
}

function gen(seq: number, scope = 'prod') {
  const text = canonicalJson({ version: 1, seq });
  return { ref: { scope, seq, digest: digest(text) }, payload: Buffer.from(text) };
}

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'spooky-cold-'));
  dirs.push(dir);
  const cache = createGenerationCache(dir);
  const inner = new FakeApplier();
  const applier = withGenerationCache(inner, cache, logger);
  return { dir, cache, inner, applier };
}

describe('cold start', () => {
  it('caches control-plane applies only (not disk-cache ones, not rejected ones)', async () => {
    const { cache, inner, applier } = setup();
    await applier.apply(gen(1).payload, gen(1).ref, 'control-plane');
    await applier.flushed();
    const first = await cache.load({ scope: 'prod', maxAgeMs: 60_000 });
    assert.ok(first.kind === 'usable' && first.entry.ref.seq === 1);
    await applier.apply(gen(2).payload, gen(2).ref, 'disk-cache');
    inner.reject = { ok: false, phase: 'compile', retryable: false, issues: [{ pointer: '/x', code: 'x.bad', message: 'bad' }] };
    await applier.apply(gen(3).payload, gen(3).ref, 'control-plane');
    await applier.flushed();
    const still = await cache.load({ scope: 'prod', maxAgeMs: 60_000 });
    assert.ok(still.kind === 'usable' && still.entry.ref.seq === 1);
    assert.equal(applier.lastRejection()?.issue, 'x.bad: bad');
  });

  it('serves the cache with source disk-cache when the control plane is silent for the grace', async () => {
    const { cache, inner, applier } = setup();
    const g = gen(5);
    await cache.save(g.ref, g.payload);
    const cold = startColdStart({ applier, cache, scope: 'prod', graceMs: 10, maxAgeMs: 60_000, logger });
    assert.match(cold.notServingReason() ?? '', /waiting for the control plane/);
    assert.deepEqual(await cold.outcome, { kind: 'disk-cache', seq: 5 });
    assert.deepEqual(inner.calls, [{ seq: 5, source: 'disk-cache' }]);
    assert.equal(cold.notServingReason(), null);
  });

  it('does not read the cache once the control plane delivered, even a rejected generation', async () => {
    const { cache, inner, applier } = setup();
    await cache.save(gen(5).ref, gen(5).payload);
    inner.reject = { ok: false, phase: 'apply', retryable: true, issues: [{ pointer: '', code: 'listener.bind', message: 'busy' }] };
    await applier.apply(gen(6).payload, gen(6).ref, 'control-plane');
    const cold = startColdStart({ applier, cache, scope: 'prod', graceMs: 0, maxAgeMs: 60_000, logger });
    assert.deepEqual(await cold.outcome, { kind: 'control-plane' });
    assert.equal(inner.calls.length, 1);
    assert.match(cold.notServingReason() ?? '', /seq 6 was rejected in phase apply \(listener.bind: busy\)/);
  });

  it('serves nothing and says why: missing, stale, other scope, corrupt, rejected', async () => {
    const missing = setup();
    const m = await startColdStart({ ...missing, scope: 'prod', graceMs: 0, maxAgeMs: 60_000, logger }).outcome;
    assert.ok(m.kind === 'not-served' && m.code === 'cache.missing');

    const stale = setup();
    await stale.cache.save(gen(1).ref, gen(1).payload, Date.now() - 5_000);
    const coldStale = startColdStart({ ...stale, scope: 'prod', graceMs: 0, maxAgeMs: 1_000, logger });
    const s = await coldStale.outcome;
    assert.ok(s.kind === 'not-served' && s.code === 'cache.stale');
    assert.match(coldStale.notServingReason() ?? '', /^cache.stale: .*older than the max age/);

    const other = setup();
    await other.cache.save(gen(1, 'dev').ref, gen(1, 'dev').payload);
    const o = await startColdStart({ ...other, scope: 'prod', graceMs: 0, maxAgeMs: 60_000, logger }).outcome;
    assert.ok(o.kind === 'not-served' && o.code === 'cache.scope_mismatch');

    const rejected = setup();
    await rejected.cache.save(gen(1).ref, gen(1).payload);
    rejected.inner.reject = { ok: false, phase: 'apply', retryable: true, issues: [{ pointer: '/listeners/0', code: 'tls.unreadable', message: 'no cert' }] };
    const coldRejected = startColdStart({ ...rejected, scope: 'prod', graceMs: 0, maxAgeMs: 60_000, logger });
    assert.equal((await coldRejected.outcome).kind, 'cache-rejected');
    assert.match(coldRejected.notServingReason() ?? '', /cache.rejected: .*seq 1.*tls.unreadable/);
    assert.equal(rejected.inner.serving(), null);
  });

  it('cancel() before the grace stops the fallback', async () => {
    const { cache, inner, applier } = setup();
    await cache.save(gen(1).ref, gen(1).payload);
    const cold = startColdStart({ applier, cache, scope: 'prod', graceMs: 60_000, maxAgeMs: 60_000, logger });
    cold.cancel();
    assert.deepEqual(await cold.outcome, { kind: 'cancelled' });
    assert.equal(inner.calls.length, 0);
  });
});
