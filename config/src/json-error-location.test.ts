import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonErrorLocation } from './json-error-location.ts';
import { parseConfigText } from './parse-config.ts';

test('a JSON syntax error points at the nearest key, with V8 line and column and the key', () => {
  const r = parseConfigText('{\n  "version": 1,\n  "listen": {"port": 1 "x": 2}}', 'json');
  assert.equal(r.ok, false);
  const issue = r.ok ? null : r.issues[0];
  assert.equal(issue?.pointer, '/listen/port');
  assert.equal(issue?.code, 'config.syntax');
  assert.match(issue?.message ?? '', /^invalid JSON \(key "port"\): .*line 3 column 24/);
});

test('items, escaped keys, unclosed strings and the end of the text', () => {
  assert.deepEqual(jsonErrorLocation('{"a": [1, {"b": 2}, x', 20), { pointer: '/a/2', key: null });
  assert.deepEqual(jsonErrorLocation('{"a\\/b": {"c~d": tru', 20), { pointer: '/a~1b/c~0d', key: 'c~d' });
  assert.deepEqual(jsonErrorLocation('{"listen": "unclosed', 1_000), { pointer: '/listen', key: 'listen' });
  assert.deepEqual(jsonErrorLocation('{"a": 1}}', 8), { pointer: '', key: null });
  assert.deepEqual(jsonErrorLocation('', 0), { pointer: '', key: null });
  const long = 'k'.repeat(300);
  assert.deepEqual(jsonErrorLocation(`{"a": {"${long}": x`, 1_000), { pointer: '/a', key: 'a' });
});

test('a JSON syntax error never quotes a value', () => {
  const r = parseConfigText('{"listen": {"tls": {"key": "s3cr3t" x}}}', 'json');
  assert.equal(r.ok, false);
  assert.doesNotMatch(r.ok ? '' : (r.issues[0]?.message ?? ''), /s3cr3t/);
});
