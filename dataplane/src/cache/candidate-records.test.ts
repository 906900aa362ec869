/**
 * The candidate's footprint on disk (real temp dirs): the apply journal's crash-window record
 * (candidate.json) and the disk cache, which holds the serving generation only.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { canonicalJson, digest } from '@spooky/config';
import pino from 'pino';
import type { ApplyResult, GenerationApplier, GenerationRef, ServingInfo, ServingSource } from '../control/generation-applier.ts';
import { CANDIDATE_FILE, openApplyJournal } from './apply-journal.ts';
import { withGenerationCache } from './caching-applier.ts';
import { createGenerationCache } from './generation-cache.ts';

const logger = pino({ level: 'silent' });
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'spooky-cand-'));
  dirs.push(dir);
  return dir;
}

function gen(seq: number) {
  const text = canonicalJson({ version: 1, seq });
  return { ref: { scope: 'prod', seq, digest: digest(text) }, payload: Buffer.from(text) };
}

describe('apply journal: candidate record', () => {
  it('hold writes {digest, appliedAtMs, crashWindowMs, cleanStop: false}; the next boot reads it', async () => {
    const dir = tempDir();
    const before = Date.now();
    const { journal, candidateAtBoot } = openApplyJournal(dir, logger);
    assert.equal(candidateAtBoot, null);
    const g = gen(2);
    await journal.holdCandidate(g.ref, 30_000);
    const onDisk = JSON.parse(readFileSync(join(dir, CANDIDATE_FILE), 'utf8'));
    assert.equal(onDisk.digest, g.ref.digest);
    assert.equal(onDisk.cleanStop, false);
    const next = openApplyJournal(dir, logger).candidateAtBoot;
    assert.ok(next !== null);
    assert.equal(next.digest, g.ref.digest);
    assert.equal(next.seq, 2);
    assert.equal(next.crashWindowMs, 30_000);
    assert.equal(next.cleanStop, false);
    assert.ok(next.appliedAtMs >= before && next.appliedAtMs <= Date.now());
  });

  it('a clean stop marks it; clearCandidate removes it; a clean stop without a candidate writes nothing', async () => {
    const dir = tempDir();
    const { journal } = openApplyJournal(dir, logger);
    await journal.cleanStop();
    assert.equal(existsSync(join(dir, CANDIDATE_FILE)), false);
    await journal.holdCandidate(gen(2).ref, 5_000);
    await journal.cleanStop();
    assert.equal(openApplyJournal(dir, logger).candidateAtBoot?.cleanStop, true);
    await journal.clearCandidate();
    assert.equal(existsSync(join(dir, CANDIDATE_FILE)), false);
    assert.equal(openApplyJournal(dir, logger).candidateAtBoot, null);
  });
});

/** Serves and holds what it is given. */
class HoldingApplier implements GenerationApplier {
  #serving: { ref: GenerationRef; source: ServingSource } | null = null;
  #candidate: GenerationRef | null = null;
  serving(): ServingInfo | null {
    if (this.#serving === null) return null;
    return this.#candidate === null ? this.#serving : { ...this.#serving, candidate: { ref: this.#candidate, percent: 5 } };
  }
  async apply(_p: Uint8Array, ref: GenerationRef, source: ServingSource): Promise<ApplyResult> {
    this.#serving = { ref, source };
    this.#candidate = null;
    return { ok: true };
  }
  async hold(_p: Uint8Array, ref: GenerationRef): Promise<ApplyResult> {
    this.#candidate = ref;
    return { ok: true };
  }
  async promote(): Promise<ApplyResult> {
    if (this.#candidate === null) return { ok: false, phase: 'apply', retryable: true, issues: [] };
    this.#serving = { ref: this.#candidate, source: 'control-plane' };
    this.#candidate = null;
    return { ok: true };
  }
  async dropCandidate(): Promise<void> {
    this.#candidate = null;
  }
}

describe('disk cache: the serving generation only', () => {
  it('a held candidate is never cached; its promotion caches it', async () => {
    const dir = tempDir();
    const cache = createGenerationCache(dir);
    const applier = withGenerationCache(new HoldingApplier(), cache, logger);
    const n = gen(1);
    const c = gen(2);
    await applier.apply(n.payload, n.ref, 'control-plane');
    await applier.flushed();
    await applier.hold(c.payload, c.ref, { candidateDigest: c.ref.digest, percent: 5 });
    await applier.flushed();
    const cached = await cache.load({ scope: 'prod', maxAgeMs: 60_000 });
    assert.equal(cached.kind === 'usable' && cached.entry.ref.seq, 1, 'the candidate is not the cold-start generation');

    await applier.dropCandidate();
    await applier.hold(c.payload, c.ref, { candidateDigest: c.ref.digest, percent: 5 });
    assert.deepEqual(await applier.promote(), { ok: true });
    await applier.flushed();
    const promoted = await cache.load({ scope: 'prod', maxAgeMs: 60_000 });
    assert.equal(promoted.kind, 'usable');
    assert.deepEqual(promoted.kind === 'usable' && promoted.entry.ref, c.ref);
    assert.equal(promoted.kind === 'usable' && promoted.entry.payload, c.payload.toString('utf8'));
  });
});
