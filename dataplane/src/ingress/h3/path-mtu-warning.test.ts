import assert from 'node:assert/strict';
import type { NetworkInterfaceInfo } from 'node:os';
import { test } from 'node:test';
import pino from 'pino';
import { type InterfaceTable, interfacesAboveSafeMtu, sysfsMtu, warnIfPathMtuAboveSafe } from './path-mtu-warning.ts';

function info(address: string, internal: boolean): NetworkInterfaceInfo {
  const family = address.includes(':') ? 'IPv6' : 'IPv4';
  const base = { address, netmask: family === 'IPv4' ? '255.0.0.0' : 'ffff::', mac: '00:00:00:00:00:00', internal, cidr: null };
  return family === 'IPv4' ? { ...base, family } : { ...base, family, scopeid: 0 };
}

const table: InterfaceTable = {
  lo: [info('127.0.0.1', true), info('::1', true)],
  eth0: [info('10.0.0.5', false), info('fe80::1', false)],
  jumbo0: [info('192.168.7.2', false)],
};
const mtus: Record<string, number> = { lo: 65536, eth0: 1500, jumbo0: 9000 };
const mtuOf = (name: string): number | null => mtus[name] ?? null;

test('a wildcard listener is reached through every interface: all above 1500 are named', () => {
  assert.deepEqual(interfacesAboveSafeMtu('0.0.0.0', table, mtuOf), [
    { name: 'jumbo0', mtu: 9000 },
    { name: 'lo', mtu: 65536 },
  ]);
  assert.deepEqual(interfacesAboveSafeMtu('::', table, mtuOf).map((i) => i.name), ['jumbo0', 'lo']);
});

test('loopback addresses map to the internal interfaces, any 127/8 address and ::1', () => {
  for (const address of ['127.0.0.1', '127.0.0.2', '::1', '::ffff:127.0.0.1']) {
    assert.deepEqual(interfacesAboveSafeMtu(address, table, mtuOf), [{ name: 'lo', mtu: 65536 }], address);
  }
});

test('a specific address names only the interface carrying it; 1500 is not above the limit', () => {
  assert.deepEqual(interfacesAboveSafeMtu('10.0.0.5', table, mtuOf), []);
  assert.deepEqual(interfacesAboveSafeMtu('192.168.7.2', table, mtuOf), [{ name: 'jumbo0', mtu: 9000 }]);
  assert.deepEqual(interfacesAboveSafeMtu('FE80::1', table, mtuOf), []);
  assert.deepEqual(interfacesAboveSafeMtu('10.9.9.9', table, mtuOf), []);
});

test('an interface whose MTU cannot be read is skipped', () => {
  assert.deepEqual(interfacesAboveSafeMtu('0.0.0.0', table, () => null), []);
});

test('sysfsMtu reads the real loopback and refuses names that are not interface names', () => {
  const lo = sysfsMtu('lo');
  if (lo !== null) assert.ok(lo >= 1280, `lo mtu ${lo}`);
  assert.equal(sysfsMtu('../../../etc/passwd'), null);
  assert.equal(sysfsMtu('no-such-interface0'), null);
});

test('warnIfPathMtuAboveSafe warns once per interface and process, and only above 1500', () => {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'warn' }, { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) });
  const lo = sysfsMtu('lo');
  warnIfPathMtuAboveSafe('127.0.0.1', logger);
  warnIfPathMtuAboveSafe('127.0.0.1', logger);
  if (lo === null || lo <= 1500) {
    assert.equal(lines.length, 0);
    return;
  }
  assert.equal(lines.length, 1);
  assert.deepEqual(lines[0]?.['interfaces'], [{ name: 'lo', mtu: lo }]);
  assert.match(String(lines[0]?.['msg']), /Packet too large/);
});
