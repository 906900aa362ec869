import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDocument } from 'yaml';
import { parseConfigText } from './parse-config.ts';
import type { ConfigIssue } from './types.ts';
import { yamlErrorLocation } from './yaml-error-location.ts';

function syntaxIssue(text: string): ConfigIssue {
  const r = parseConfigText(text, 'yaml');
  assert.equal(r.ok, false, 'expected a syntax error');
  assert.equal(r.ok ? 0 : r.issues.length, 1);
  const issue = r.ok ? null : r.issues[0];
  assert.equal(issue?.code, 'config.syntax');
  return issue as ConfigIssue;
}

test('a duplicate key points at the key, with its line, column and name', () => {
  const issue = syntaxIssue('version: 1\nupstream:\n  api:\n    lb: a\n    lb: b\n');
  assert.equal(issue.pointer, '/upstream/api/lb');
  assert.match(issue.message, /^invalid YAML at line 5, column 5 \(key "lb"\): Map keys must be unique/);
});

test('an unclosed quote points at the value it opened', () => {
  const issue = syntaxIssue('version: 1\nupstream:\n  api:\n    backends:\n      - address: "127.0.0.1:80\n        id: x\n');
  assert.equal(issue.pointer, '/upstream/api/backends/0/address');
  assert.match(issue.message, /at line 7, column 1 \(key "address"\): Missing closing "quote/);
});

test('a bad indentation points at the last key before it', () => {
  const issue = syntaxIssue('version: 1\nupstream:\n  - host: a\n    path: /x\n   bad: 1\n');
  assert.equal(issue.pointer, '/upstream/0/path');
  assert.match(issue.message, /at line 5, column 1 \(key "path"\): Sequence item without - indicator/);
});

test('a tab used as indentation points at the key that holds it', () => {
  const issue = syntaxIssue('version: 1\nupstream:\n  api:\n\tlb: x\n');
  assert.equal(issue.pointer, '/upstream/api');
  assert.match(issue.message, /at line 4, column 1 \(key "api"\): Tabs are not allowed/);
});

test('an error before any node points at the root and names no key', () => {
  const issue = syntaxIssue('"unclosed\n');
  assert.equal(issue.pointer, '');
  assert.match(issue.message, /^invalid YAML at line \d+, column \d+: /);
  assert.doesNotMatch(issue.message, /\(key /);
});

test('keys are escaped in the pointer and quoted and shortened in the message', () => {
  const long = 'k'.repeat(60);
  const text = `a/b:\n  ${long}: 1\n  ${long}: 2\n`;
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  const error = doc.errors[0];
  assert.ok(error);
  const at = yamlErrorLocation(text, doc, error.pos[0]);
  assert.equal(at.pointer, `/a~1b/${long}`);
  assert.equal(at.key, `${'k'.repeat(40)}…`);
  assert.deepEqual([at.line, at.column], [3, 3]);
});

test('an offset past the end is clamped, never thrown', () => {
  const doc = parseDocument('a: [1, 2\n', { prettyErrors: false });
  const at = yamlErrorLocation('a: [1, 2\n', doc, 10_000);
  assert.equal(at.pointer, '/a/1');
  assert.equal(at.line, 2);
});

test('a syntax error never quotes a value (values may be secrets)', () => {
  const issue = syntaxIssue('listen:\n  tls:\n    key: "s3cr3t-private-key\n');
  assert.doesNotMatch(issue.message, /s3cr3t/);
});

test('a key longer than any valid key ends the pointer at its mapping', () => {
  const text = `a:\n  b:\n    ${'x'.repeat(300)}: 1\n    ${'x'.repeat(300)}: 2\n`;
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  const error = doc.errors[0];
  assert.ok(error);
  assert.equal(yamlErrorLocation(text, doc, error.pos[0]).pointer, '/a/b');
});
