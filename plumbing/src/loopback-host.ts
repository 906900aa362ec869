/**
 * Whether a host names this machine only. Both planes allow plaintext (REST, gRPC, the data
 * plane's session to its control plane) without an explicit `--allow-insecure-*` only to a
 * loopback host: anything else would send bearer tokens in clear, or let whoever answers on the
 * address pose as a node or as the control plane. `0.0.0.0` and `::` (every interface) are not
 * loopback; a host name other than `localhost` is not resolved (what it resolves to may change).
 */
import { BlockList, isIP } from 'node:net';

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** True for `localhost` (any case, a trailing dot allowed), an IPv4 address in 127.0.0.0/8, `::1` (any spelling) or an IPv4-mapped 127.x. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.toLowerCase().replace(/\.$/, '');
  if (bare === 'localhost') return true;
  const family = isIP(bare);
  if (family === 4) return LOOPBACK.check(bare, 'ipv4');
  if (family === 6) return LOOPBACK.check(bare, 'ipv6');
  return false;
}
