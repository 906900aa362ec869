import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clientAddress, forwardedElement, forwardedFromXff, forwardedNode, forwardedValue, xffFromForwarded } from './forwarded-values.ts';

test('forwardedValue: tokens as they are, anything else quoted with \\ and " escaped', () => {
  assert.equal(forwardedValue('example.com'), 'example.com');
  assert.equal(forwardedValue('example.com:8443'), '"example.com:8443"');
  assert.equal(forwardedValue('a"b\\c'), '"a\\"b\\\\c"');
});

test('forwardedNode / forwardedElement: IPv6 bracketed and quoted, unknown peers', () => {
  assert.equal(forwardedNode('2001:db8::1'), '"[2001:db8::1]"');
  assert.equal(forwardedNode('192.0.2.1'), '192.0.2.1');
  assert.equal(forwardedNode(null), 'unknown');
  assert.equal(forwardedNode('_hidden'), '_hidden');
  assert.equal(forwardedElement('::1', 'https', '[::1]:9889'), 'for="[::1]";proto=https;host="[::1]:9889"');
  assert.equal(forwardedElement(null, 'https', null), 'for=unknown;proto=https');
});

test('clientAddress unmaps IPv4-mapped IPv6 only', () => {
  assert.equal(clientAddress('::ffff:10.0.0.1'), '10.0.0.1');
  assert.equal(clientAddress('::ffff:a00:1'), '::ffff:a00:1');
  assert.equal(clientAddress('2001:db8::1'), '2001:db8::1');
});

test('XFF ⇄ Forwarded conversions keep the same hops', () => {
  assert.equal(forwardedFromXff('198.51.100.1, 2001:db8::1,, unknown'), 'for=198.51.100.1, for="[2001:db8::1]", for=unknown');
  assert.equal(xffFromForwarded('for="[2001:db8::1]:4711";proto=https, for=192.0.2.60:80;by=203.0.113.43, by=x'), '2001:db8::1, 192.0.2.60');
  assert.equal(xffFromForwarded('for="a,b;c", for=z'), 'unknown, z', 'separators inside quotes do not split; a malformed node is unknown');
  assert.equal(xffFromForwarded('proto=https'), '');
});
