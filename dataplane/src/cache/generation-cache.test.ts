import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { canonicalJson, digest } from '@spooky/config';
import { CACHE_FILE, createGenerationCache, QUARANTINE_DIR } from './generation-cache.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'spooky-cache-'));
  dirs.push(d);
  return d;
}

function gen(seq: number) {
  const text = canonicalJson({ version: 1, seq });
  return { ref: { scope: 'prod', seq, digest: digest(text) }, payload: Buffer.from(text) };
}

describe('generation cache (disk)', () => {
  it('saves atomically (no temp file left) and loads what it saved; the newest save wins', async () => {
    const dir = tempDir();
    const cache = createGenerationCache(dir);
    const g1 = gen(1);
    const g2 = gen(2);
    await Promise.all([cache.save(g1.ref, g1.payload), cache.save(g2.ref, g2.payload)]);
    assert.deepEqual(readdirSync(dir), [CACHE_FILE]);
    const loaded = await cache.load({ scope: 'prod', maxAgeMs: 60_000 });
    assert.ok(loaded.kind === 'usable');
    assert.deepEqual(loaded.entry.ref, g2.ref);
    assert.equal(loaded.entry.payload, g2.payload.toString());
  });

  it('reports a missing file without creating anything', async () => {
    const dir = tempDir();
    const loaded = await createGenerationCache(join(dir, 'nope')).load({ scope: 'prod', maxAgeMs: 1 });
    assert.equal(loaded.kind, 'missing');
    assert.equal(existsSync(join(dir, 'nope')), false);
  });

  it('moves a truncated file to quarantine/ and never reads it again', async () => {
    const dir = tempDir();
    const cache = createGenerationCache(dir);
    const g = gen(3);
    await cache.save(g.ref, g.payload);
    const full = readFileSync(cache.path);
    truncateSync(cache.path, Math.floor(full.length / 2));
    const loaded = await cache.load({ scope: 'prod', maxAgeMs: 60_000 });
    assert.ok(loaded.kind === 'corrupt');
    assert.ok(loaded.quarantinedTo?.startsWith(join(dir, QUARANTINE_DIR, `${CACHE_FILE}.`)));
    assert.equal(existsSync(cache.path), false);
    assert.equal(readFileSync(loaded.quarantinedTo ?? '').length, Math.floor(full.length / 2));
    assert.equal((await cache.load({ scope: 'prod', maxAgeMs: 60_000 })).kind, 'missing');
  });

  it('keeps a stale file in place and removes temp files of a crashed save', async () => {
    const dir = tempDir();
    const cache = createGenerationCache(dir);
    const g = gen(4);
    await cache.save(g.ref, g.payload, Date.now() - 10_000);
    writeFileSync(join(dir, `${CACHE_FILE}.tmp-999999-dead`), '{"half');
    const loaded = await cache.load({ scope: 'prod', maxAgeMs: 1_000 });
    assert.ok(loaded.kind === 'stale');
    assert.deepEqual(loaded.entry.ref, g.ref);
    assert.deepEqual(readdirSync(dir), [CACHE_FILE]);
  });
});
