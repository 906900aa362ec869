/** Finding a loopback port that is free for both UDP (QUIC) and TCP (the TLS listener). */
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

function tcpFree(port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(port, host, () => {
      const bound = (srv.address() as { port: number }).port;
      srv.close(() => resolve(bound));
    });
  });
}

function udpFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    sock.once('error', () => resolve(false));
    sock.bind(port, host, () => sock.close(() => resolve(true)));
  });
}

/**
 * Ports handed out here lie below the kernel's ephemeral range (ip_local_port_range), where
 * nothing else lands by chance: every bind to port 0 (origins, control planes, admin servers
 * started after the pick) and every outgoing connection's source port come from that range, so
 * a port picked by binding port 0 and released again could be handed to one of them before the
 * data plane binds it (seen as EADDRINUSE on a listener). Random in [LOW, ephemeral start).
 */
const LOW = 20_000;

function ephemeralStart(): number {
  try {
    const first = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(first) && first > LOW + 1_000 ? first : 32_768;
  } catch {
    return 32_768;
  }
}

const EPHEMERAL_START = ephemeralStart();

/** A port free on `host` for TCP and UDP right now (another process may still take it later). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const candidate = LOW + Math.floor(Math.random() * (EPHEMERAL_START - LOW));
    const port = await tcpFree(candidate, host).catch(() => null);
    if (port !== null && (await udpFree(port, host))) return port;
  }
  throw new Error(`no port below ${EPHEMERAL_START} free for both TCP and UDP after 50 tries`);
}

/** A port free for TCP and UDP on every one of `hosts` (e.g. 127.0.0.1 and ::1 for a listener pair). */
export async function freePortOn(hosts: readonly string[]): Promise<number> {
  const [first, ...rest] = hosts;
  if (first === undefined) throw new Error('freePortOn needs a host');
  for (let i = 0; i < 50; i++) {
    const port = await freePort(first);
    let free = true;
    for (const host of rest) {
      free = (await tcpFree(port, host).then(() => true, () => false)) && (await udpFree(port, host));
      if (!free) break;
    }
    if (free) return port;
  }
  throw new Error(`no port free on ${hosts.join(', ')} for both TCP and UDP after 50 tries`);
}
