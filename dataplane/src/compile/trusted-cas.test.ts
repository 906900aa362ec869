import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ConfigIssue } from '@spooky/config';
import { trustedCas } from './trusted-cas.ts';

const pem = (tag: string) => `-----BEGIN CERTIFICATE-----\n${tag}\n-----END CERTIFICATE-----`;

test('ca_file and ca_dir: PEM files of the directory in name order, with the file first; others ignored; issues at their pointer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spooky-cas-'));
  try {
    writeFileSync(join(dir, 'bundle.pem'), pem('FILE'));
    const casDir = mkdtempSync(join(dir, 'cas-'));
    writeFileSync(join(casDir, 'b.crt'), pem('B'));
    writeFileSync(join(casDir, 'a.pem'), pem('A'));
    writeFileSync(join(casDir, 'notes.txt'), pem('IGNORED'));
    const emptyDir = mkdtempSync(join(dir, 'empty-'));
    writeFileSync(join(emptyDir, 'junk.pem'), 'not a certificate');

    const issues: ConfigIssue[] = [];
    const both = trustedCas({ ca_file: join(dir, 'bundle.pem'), ca_dir: casDir }, issues);
    assert.deepEqual(issues, []);
    assert.deepEqual(both?.match(/^[A-Z]+$/gm), ['FILE', 'A', 'B']);
    assert.equal(trustedCas({ ca_file: null, ca_dir: null }, issues), null, 'system roots');

    const bad: ConfigIssue[] = [];
    trustedCas({ ca_file: null, ca_dir: emptyDir }, bad);
    trustedCas({ ca_file: null, ca_dir: join(dir, 'missing') }, bad);
    assert.deepEqual(bad.map((i) => [i.pointer, i.code]), [
      ['/upstream_tls/ca_dir', 'tls.ca_dir.unreadable'],
      ['/upstream_tls/ca_dir', 'tls.ca_dir.unreadable'],
    ]);
    assert.match(bad[1]?.message ?? '', /ENOENT/);
    assert.doesNotMatch(JSON.stringify(bad), /not a certificate/, 'file content never in an issue');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
