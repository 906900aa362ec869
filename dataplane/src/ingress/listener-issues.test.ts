import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openIssue, unreadableIssue } from './listener-issues.ts';

const KEY_PATH = '/etc/spooky/private/edge-key.pem';

test('an unreadable key names the listener, never the key path', () => {
  const key = unreadableIssue(2, 'key', KEY_PATH, Object.assign(new Error(`ENOENT: open '${KEY_PATH}'`), { code: 'ENOENT' }));
  assert.deepEqual(key.issue, {
    pointer: '/listeners/2/tls/key',
    code: 'listener.tls.unreadable',
    message: 'cannot read the key file of listener 2: ENOENT',
  });
  const cert = unreadableIssue(0, 'cert', '/etc/spooky/cert.pem', Object.assign(new Error('x'), { code: 'EACCES' }));
  assert.equal(cert.issue.message, 'cannot read cert file /etc/spooky/cert.pem: EACCES');
});

test('library errors quoting the key path have it replaced', () => {
  const err = Object.assign(new Error(`failed to load private key from ${KEY_PATH}`), { code: 'ERR_HTTP3_TLS_CONFIG_ERROR' });
  const issue = openIssue(1, '127.0.0.1', 443, err, KEY_PATH).issue;
  assert.equal(issue.code, 'listener.tls.invalid');
  assert.ok(!issue.message.includes(KEY_PATH), issue.message);
  assert.match(issue.message, /the key file of listener 1/);
});
