/**
 * Byte pipes between a TCP port and a unix socket, the glue between network namespaces
 * (netns-fleet.ts): a unix socket file is reachable from every namespace (it lives in the file
 * system), a TCP port only from its own. Each accepted connection opens one connection on the
 * other side and the two are piped both ways; when either side fails or closes, both are torn
 * down (a refused connect closes the accepted one at once, so the caller sees its peer as
 * unreachable rather than a hang).
 */
import { rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface Bridge {
  /** Stops accepting and destroys every open pair. */
  close(): Promise<void>;
}

/**
 * Source addresses for `unixToTcp` connections, in turn: 127.0.0.2 … 127.0.0.251 (Linux routes
 * the whole 127/8 to lo, so any of them can be bound without configuration). One client
 * connection keeps one address; the next connection takes the next one.
 */
export const ROTATING_SOURCES = Array.from({ length: 250 }, (_, i) => `127.0.0.${i + 2}`);

function pipePair(a: Socket, b: Socket, open: Set<Socket>): void {
  for (const s of [a, b]) {
    open.add(s);
    s.on('close', () => open.delete(s));
    s.on('error', () => {}); // a reset of one side is expected; 'close' tears down the pair
  }
  a.pipe(b);
  b.pipe(a);
  a.on('close', () => b.destroy());
  b.on('close', () => a.destroy());
}

function serve(server: Server, open: Set<Socket>): Bridge {
  return {
    close: () =>
      new Promise((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * Listens on TCP `host:port` and forwards each connection to the unix socket `socketPath`.
 * Resolves once listening.
 */
export async function tcpToUnix(host: string, port: number, socketPath: string): Promise<Bridge> {
  const open = new Set<Socket>();
  const server = createServer((down) => pipePair(down, connect(socketPath), open));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return serve(server, open);
}

/**
 * Listens on the unix socket `socketPath` (a stale file is removed first) and forwards each
 * connection to TCP `host:port`. `sources`, when given, are the local addresses the outgoing
 * connections bind to in turn (see ROTATING_SOURCES), so the far side sees distinct clients.
 */
export async function unixToTcp(socketPath: string, host: string, port: number, sources: readonly string[] = []): Promise<Bridge> {
  const open = new Set<Socket>();
  let turn = 0;
  const server = createServer((down) => {
    const localAddress = sources.length > 0 ? sources[turn++ % sources.length] : undefined;
    pipePair(down, connect({ host, port, ...(localAddress === undefined ? {} : { localAddress }) }), open);
  });
  rmSync(socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  return serve(server, open);
}
