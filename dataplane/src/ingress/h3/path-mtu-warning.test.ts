import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { isWildcardAddress, pmtuRisk, sysfsMtu, warnIfPathMtuAboveSafe } from './path-mtu-warning.ts';

test('a wildcard listener is safe whatever the loopback MTU (the library caps it at 1472)', () => {
  for (const address of ['0.0.0.0', '::', '::0']) {
    assert.equal(isWildcardAddress(address), true);
    assert.equal(pmtuRisk(address, 65536), null, address);
  }
});

test('a specific address takes its ceiling from the loopback MTU, capped at 16383', () => {
  assert.deepEqual(pmtuRisk('127.0.0.1', 65536), { mtu: 65536, ceiling: 16383 });
  assert.deepEqual(pmtuRisk('10.0.0.5', 65536), { mtu: 65536, ceiling: 16383 });
  assert.deepEqual(pmtuRisk('::1', 9000), { mtu: 9000, ceiling: 8952 });
  assert.deepEqual(pmtuRisk('192.168.7.2', 9000), { mtu: 9000, ceiling: 8972 });
  assert.deepEqual(pmtuRisk('::ffff:127.0.0.1', 9000), { mtu: 9000, ceiling: 8972 });
});

test('a loopback MTU of 1500 or less, or an unknown one, is safe', () => {
  assert.equal(pmtuRisk('127.0.0.1', 1500), null);
  assert.equal(pmtuRisk('::1', 1280), null);
  assert.equal(pmtuRisk('127.0.0.1', null), null);
});

test('sysfsMtu reads the real loopback and refuses names that are not interface names', () => {
  const lo = sysfsMtu('lo');
  if (lo !== null) assert.ok(lo >= 1280, `lo mtu ${lo}`);
  assert.equal(sysfsMtu('../../../etc/passwd'), null);
  assert.equal(sysfsMtu('no-such-interface0'), null);
});

test('warnIfPathMtuAboveSafe warns once per address and process, never for a wildcard', () => {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'warn' }, { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) });
  const mtu = () => 65536;
  warnIfPathMtuAboveSafe('127.0.0.1', logger, mtu);
  warnIfPathMtuAboveSafe('127.0.0.1', logger, mtu);
  warnIfPathMtuAboveSafe('0.0.0.0', logger, mtu);
  warnIfPathMtuAboveSafe('::', logger, mtu);
  warnIfPathMtuAboveSafe('127.0.0.2', logger, () => 1500);
  assert.equal(lines.length, 1);
  assert.equal(lines[0]?.['address'], '127.0.0.1');
  assert.equal(lines[0]?.['probeCeiling'], 16383);
  assert.match(String(lines[0]?.['msg']), /Packet too large/);
  warnIfPathMtuAboveSafe('::1', logger, mtu);
  assert.equal(lines.length, 2, 'another address warns on its own');
});
