import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalJson, diff, diffDocuments, digest, parseConfig } from '@spooky/config';
import { rememberStoredConfig, storedConfig, storedDocument, storedVersion } from './stored-configs.ts';

function stored(input: unknown) {
  const parsed = parseConfig(input);
  assert.ok(parsed.ok, JSON.stringify(parsed));
  const payload = canonicalJson(parsed.config);
  return { digest: digest(payload), payload, config: parsed.config };
}

const base = (prefix: string) => ({
  version: 1,
  listen: { address: '127.0.0.1', port: 9443, tls: { cert: 'c.pem', key: 'k.pem' } },
  upstream: { one: { route: { path_prefix: prefix }, backends: [{ id: 'b1', address: 'http://127.0.0.1:8080' }] } },
});

describe('stored-configs', () => {
  it('parses a stored document once per digest and gives the same Config and document again', () => {
    const g = stored(base('/a'));
    const first = storedConfig(g);
    assert.deepEqual(first, g.config);
    assert.equal(storedConfig(g), first, 'cached by digest');
    const doc = storedDocument(g);
    assert.deepEqual(doc, JSON.parse(g.payload));
    assert.equal(storedDocument(g), doc);
    assert.equal(storedVersion(g), 1);
  });

  it('a seeded Config is used as is (no parse of the payload)', () => {
    const g = stored(base('/seeded'));
    rememberStoredConfig(g.digest, g.config);
    // A payload that would not even parse: the seeded entry answers.
    assert.equal(storedConfig({ digest: g.digest, payload: 'not json' }), g.config);
  });

  it('the diff over cached documents equals the diff of the configs', () => {
    const a = stored(base('/x'));
    const b = stored(base('/y'));
    assert.deepEqual(diffDocuments(storedDocument(a), storedDocument(b)), diff(a.config, b.config));
    assert.ok(diff(a.config, b.config).length > 0);
  });

  it('a document today’s checks refuse is used as stored, and its version is read from it', () => {
    const payload = JSON.stringify({ version: 99, upstream: {} });
    const g = { digest: digest(payload), payload };
    assert.equal(storedVersion(g), 99);
    const none = JSON.stringify({ upstream: {} });
    assert.equal(storedVersion({ digest: digest(none), payload: none }), 1);
  });

  it('keeps at most 8 configs: the least recently used is parsed again', () => {
    const gens = Array.from({ length: 10 }, (_, i) => stored(base(`/lru${i}`)));
    const firsts = gens.map((g) => storedConfig(g));
    assert.notEqual(storedConfig(gens[0]!), firsts[0], 'evicted, parsed again');
    assert.equal(storedConfig(gens[9]!), firsts[9], 'recent ones stay');
  });
});
