import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { H3Coverage, serverNameMatches } from './h3-coverage.ts';

function cert(sans: string): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'spooky-cov-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=x',
    '-addext', `subjectAltName=${sans}`, '-keyout', join(dir, 'k'), '-out', join(dir, 'c')], { stdio: 'ignore' });
  return readFileSync(join(dir, 'c'));
}

describe('HTTP/3 coverage of SNI names', () => {
  it('matches exact names and one-label wildcards only', () => {
    assert.equal(serverNameMatches('a.test', 'a.test'), true);
    assert.equal(serverNameMatches('*.w.test', 'x.w.test'), true);
    assert.equal(serverNameMatches('*.w.test', 'y.x.w.test'), false);
    assert.equal(serverNameMatches('*.w.test', 'w.test'), false);
    assert.equal(serverNameMatches('*.w.test', '.w.test'), false);
  });

  it('a name only an SNI certificate serves is uncovered unless the default certificate names it too', () => {
    const sni = ['a.test', '*.w.test', 'both.test'].map((serverName) => ({ serverName, cert: Buffer.alloc(0), key: Buffer.alloc(0) }));
    const coverage = new H3Coverage(cert('DNS:localhost,DNS:both.test,DNS:*.w.test'), sni);
    assert.equal(coverage.uncovered('a.test'), true);
    assert.equal(coverage.uncovered('A.Test'), true);
    assert.equal(coverage.uncovered('both.test'), false, 'the default certificate covers it');
    assert.equal(coverage.uncovered('x.w.test'), false, 'covered by the default wildcard SAN');
    assert.equal(coverage.uncovered('unknown.test'), false, 'no SNI entry: TCP served the default as well');
  });
});
