import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileTrustedProxies } from './trusted-proxies.ts';

test('IPv4 blocks: inside / outside, bare address = one host, dual-stack mapped peers match', () => {
  const t = compileTrustedProxies(['10.0.0.0/8', '192.168.1.7', '172.16.0.0/12']);
  assert.equal(t.size, 3);
  for (const ok of ['10.0.0.1', '10.255.255.255', '192.168.1.7', '172.31.0.1', '::ffff:10.1.2.3']) assert.ok(t.trusts(ok), ok);
  for (const no of ['11.0.0.1', '9.255.255.255', '192.168.1.8', '172.32.0.1', '::ffff:11.0.0.1', '::a00:1', 'garbage', '', null]) assert.ok(!t.trusts(no), String(no));
});

test('IPv6 blocks, /0 of each family, an IPv4 block never matches a plain IPv6 peer', () => {
  const t = compileTrustedProxies(['2001:db8::/32', '::1/128', 'fe80::/10']);
  for (const ok of ['2001:db8::1', '2001:db8:ffff::', '::1', '[::1]', 'fe80::1%eth0', 'febf::1']) assert.ok(t.trusts(ok), ok);
  for (const no of ['2001:db9::1', '::2', 'fec0::1', '127.0.0.1']) assert.ok(!t.trusts(no), no);
  const any4 = compileTrustedProxies(['0.0.0.0/0']);
  assert.ok(any4.trusts('203.0.113.9'));
  assert.ok(any4.trusts('::ffff:203.0.113.9'));
  assert.ok(!any4.trusts('2001:db8::1'));
  const any6 = compileTrustedProxies(['::/0']);
  assert.ok(any6.trusts('2001:db8::1'));
  assert.ok(any6.trusts('10.0.0.1'), '::/0 includes the IPv4-mapped range');
});

test('no blocks: nobody is trusted; an invalid block is a compile error (the config checks refuse it first)', () => {
  assert.ok(!compileTrustedProxies([]).trusts('10.0.0.1'));
  assert.throws(() => compileTrustedProxies(['10.0.0.1/8']));
});
