import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isSecretKey, REDACTED, redactSecrets } from './redact-secrets.ts';

test('private-key paths are redacted wherever they sit, whatever they look like', () => {
  const doc = {
    listeners: [
      { address: '::1', port: 443, tls: { cert: '/etc/spooky/cert.pem', key: '/etc/spooky/tenant-a.key' } },
      { address: '::1', port: 444, tls: { cert: 'c.pem', key: 'path' } },
      { address: '::1', port: 445, tls: { cert: 'c.pem', key: 'header:x-user' } },
    ],
    upstream: { a: { load_balancing: { type: 'consistent-hash', key: 'header:x-user' } } },
    load_balancing: { type: 'consistent-hash', key: 'cookie:sid' },
  };
  const out = redactSecrets(doc) as typeof doc;
  assert.deepEqual(out.listeners.map((l) => l.tls.key), [REDACTED, REDACTED, REDACTED]);
  assert.deepEqual(out.listeners.map((l) => l.tls.cert), ['/etc/spooky/cert.pem', 'c.pem', 'c.pem'], 'certificates are public');
  assert.equal(out.upstream.a.load_balancing.key, 'header:x-user', 'a balancing key spec stays readable');
  assert.equal(out.load_balancing.key, 'cookie:sid');
  assert.equal(redactSecrets('header:x-user', 'key', 'tls'), REDACTED);
  assert.equal(redactSecrets('header:x-user', 'key', 'load_balancing'), 'header:x-user');
  assert.equal(redactSecrets('/keys/a b.pem', 'key', 'load_balancing'), REDACTED, 'not a key spec: redacted');
});

test('key path field names count as secret names', () => {
  for (const name of ['key', 'key_file', 'KEY_PATH', 'client_key', 'tls_key_file', 'private_key_path', 'api_token']) assert.ok(isSecretKey(name), name);
  for (const name of ['cert', 'ca_file', 'keys', 'monkey', 'path']) assert.ok(!isSecretKey(name), name);
});
