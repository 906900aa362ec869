/**
 * Startup warning for a defect of @currentspace/http3 0.9.0 that no option can avoid: its
 * path-MTU discovery probes up to the MTU of the route to the peer (`IP_MTU` of a connected
 * socket, at most 16383 bytes) and ignores the peer's `max_udp_payload_size` transport
 * parameter; `maxUdpPayloadSize` caps neither the probes nor the advertised 16383. Chromium
 * (max_udp_payload_size 1472) closes the connection with "Packet too large" at the first
 * packet above 1472 bytes it receives (a 1473-byte probe, 0.23–0.55 s after the handshake on a
 * loopback of MTU 65536). On a 1500-byte path the probes stay within 1472 and nothing happens.
 * So a listener reachable through an interface whose MTU is above 1500 (loopback, jumbo
 * frames) is worth one warning.
 *
 * Interface MTUs come from `/sys/class/net/<name>/mtu` (Linux; elsewhere nothing is read and
 * nothing is warned; sysfs shows the network namespace it was mounted in). A route MTU
 * (`ip route … mtu 1500`) also fixes it; this check cannot see route metrics, so the warning
 * names that fix rather than claiming the path is broken.
 */
import { readFileSync } from 'node:fs';
import { type NetworkInterfaceInfo, networkInterfaces } from 'node:os';
import type { Logger } from 'pino';

/** Largest interface MTU at which the library's probes stay within Chromium's 1472-byte limit. */
export const PMTU_SAFE_MTU = 1500;

export interface InterfaceMtu {
  readonly name: string;
  readonly mtu: number;
}

export type InterfaceTable = NodeJS.Dict<NetworkInterfaceInfo[]>;

/**
 * Pure: the interfaces a listener bound to `address` is reached through whose MTU is above
 * PMTU_SAFE_MTU, sorted by name. A wildcard (`0.0.0.0`, `::`) means every interface; a
 * loopback address (127/8, ::1) every internal one; any other address the interfaces carrying
 * it. `mtuOf` returns null when unknown (such interfaces are skipped).
 */
export function interfacesAboveSafeMtu(address: string, table: InterfaceTable, mtuOf: (name: string) => number | null): InterfaceMtu[] {
  const wanted = normalise(address);
  const out: InterfaceMtu[] = [];
  for (const [name, infos] of Object.entries(table)) {
    if (!infos?.some((info) => reaches(wanted, info))) continue;
    const mtu = mtuOf(name);
    if (mtu !== null && mtu > PMTU_SAFE_MTU) out.push({ name, mtu });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function normalise(address: string): string {
  const lower = address.toLowerCase();
  return lower.startsWith('::ffff:') && lower.includes('.') ? lower.slice(7) : lower;
}

function reaches(address: string, info: NetworkInterfaceInfo): boolean {
  if (address === '0.0.0.0' || address === '::' || address === '') return true;
  if (address.startsWith('127.') || address === '::1') return info.internal;
  return normalise(info.address) === address;
}

/** Reads `/sys/class/net/<name>/mtu`; null where there is no such file (non-Linux) or it is odd. */
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
 * Called when a listener opened. Logs one warning per process and interface (a listener opened
 * again on a new generation stays quiet); never throws. Cost: one interface table and a few
 * small file reads per listener opened, nothing per request.
 */
export function warnIfPathMtuAboveSafe(address: string, logger: Logger): void {
  let above: InterfaceMtu[];
  try {
    above = interfacesAboveSafeMtu(address, networkInterfaces(), sysfsMtu).filter((i) => !warned.has(i.name));
  } catch {
    return; // the check is advice; a failing interface query must not stop a listener
  }
  if (above.length === 0) return;
  for (const i of above) warned.add(i.name);
  logger.warn(
    { address, interfaces: above, safeMtu: PMTU_SAFE_MTU },
    'HTTP/3 listener reachable through an interface with MTU above 1500: @currentspace/http3 0.9.0 probes the path MTU up to it and Chromium closes such QUIC connections ("Packet too large") within about a second; lower the interface MTU or the route MTU (ip route … mtu 1500) towards browsers',
  );
}
