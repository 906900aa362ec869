/**
 * Startup warning for a defect of @currentspace/http3 0.9.0 that no option avoids.
 *
 * The library fixes each listener's QUIC payload ceiling when it binds, and overrides its own
 * `maxUdpPayloadSize` option with it (measured: 1200, 1350, 1452 all ignored):
 *  - bound to a wildcard (`0.0.0.0`, `::`): 1472;
 *  - bound to a specific address: `IP_MTU` of a socket connected to that very address minus
 *    the IP/UDP headers, at most 16383. Linux delivers a host's own addresses over the
 *    loopback device, so this is the loopback MTU (65536 → 16383) whatever the NIC's MTU.
 * It advertises that ceiling as its max_udp_payload_size and probes the path MTU up to it,
 * ignoring the client's max_udp_payload_size; the probes are not sent with DF, so the kernel
 * fragments them and a client behind a 1500-byte link still receives them whole. Chromium
 * (max_udp_payload_size 1472) closes the connection with "Packet too large" at the first one
 * (1473 bytes, 0.23–0.55 s after the handshake) — measured on loopback and across a
 * 1500-MTU veth pair between two network namespaces.
 *
 * So: a listener on a specific address while the loopback MTU is above 1500 gets one warning.
 * Fixes: bind the wildcard, lower the loopback MTU, or give the address's local route an MTU
 * (`ip route replace local <addr> dev lo table local … mtu 1500`; the library reads that too, but
 * this check cannot see route metrics and then warns needlessly).
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';

/** Largest MTU at which the library's ceiling stays within Chromium's 1472-byte limit (IPv4). */
export const PMTU_SAFE_MTU = 1500;

/** The library's cap on any ceiling (2-byte QUIC varint packet lengths). */
const LIBRARY_MAX_PAYLOAD = 16383;

export interface PmtuRisk {
  /** MTU the library derives its ceiling from (the loopback's). */
  readonly mtu: number;
  /** UDP payload size the library will advertise and probe up to. */
  readonly ceiling: number;
}

export function isWildcardAddress(address: string): boolean {
  return address === '0.0.0.0' || address === '::' || address === '::0' || address === '';
}

/**
 * Pure: the ceiling a listener bound to `address` gets when it exceeds what Chromium accepts,
 * else null. `loopbackMtu` null (unknown) is treated as safe.
 */
export function pmtuRisk(address: string, loopbackMtu: number | null): PmtuRisk | null {
  if (isWildcardAddress(address) || loopbackMtu === null || loopbackMtu <= PMTU_SAFE_MTU) return null;
  const headers = address.includes(':') && !address.toLowerCase().startsWith('::ffff:') ? 48 : 28;
  return { mtu: loopbackMtu, ceiling: Math.min(LIBRARY_MAX_PAYLOAD, loopbackMtu - headers) };
}

/**
 * Reads `/sys/class/net/<name>/mtu`; null where there is no such file (non-Linux) or it is odd.
 * sysfs shows the network namespace it was mounted in, not necessarily the process's.
 */
export function sysfsMtu(name: string): number | null {
  if (!/^[A-Za-z0-9_.:@-]{1,32}$/.test(name)) return null;
  try {
    const mtu = Number.parseInt(readFileSync(`/sys/class/net/${name}/mtu`, 'utf8'), 10);
    return Number.isFinite(mtu) && mtu > 0 ? mtu : null;
  } catch {
    return null;
  }
}

const warned = new Set<string>();

/**
 * Called when a listener opened. Logs one warning per process and address (a listener opened
 * again on a new generation stays quiet); never throws. Cost: one small file read per listener
 * opened, nothing per request.
 */
export function warnIfPathMtuAboveSafe(address: string, logger: Logger, loopbackMtu: () => number | null = () => sysfsMtu('lo')): void {
  if (warned.has(address) || isWildcardAddress(address)) return;
  const risk = pmtuRisk(address, loopbackMtu());
  if (!risk) return;
  warned.add(address);
  logger.warn(
    { address, loopbackMtu: risk.mtu, probeCeiling: risk.ceiling, safeMtu: PMTU_SAFE_MTU },
    'HTTP/3 listener on a specific address while the loopback MTU is above 1500: @currentspace/http3 0.9.0 then sends QUIC packets up to probeCeiling bytes (fragmented) and Chromium closes such connections ("Packet too large") within a second; listen on 0.0.0.0 or :: (the library caps at 1472), lower the loopback MTU, or set an MTU on the address\'s local route',
  );
}
