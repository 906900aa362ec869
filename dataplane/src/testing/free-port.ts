/**
 * Test support: loopback ports. A port found free may still be taken by another process
 * before the test binds it; callers bind right away.
 */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

/** True when TCP `port` on 127.0.0.1 can be bound right now (nobody holds it). */
export async function tcpPortFree(port: number): Promise<boolean> {
  const s = createServer();
  const ok = await new Promise<boolean>((resolve) => {
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => resolve(true));
  });
  if (ok) await new Promise<void>((resolve) => s.close(() => resolve()));
  return ok;
}

/** A port number bindable on 127.0.0.1 for TCP and UDP (QUIC) at the time of the call. */
export async function freeUdpTcpPort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const tcp = createServer();
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(0, '127.0.0.1', () => resolve());
    });
    const address = tcp.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const udp = createSocket('udp4');
    const ok = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind(port, '127.0.0.1', () => resolve(true));
    });
    await new Promise<void>((resolve) => tcp.close(() => resolve()));
    if (ok) {
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      return port;
    }
    udp.close();
  }
  throw new Error('no port free for both TCP and UDP');
}

/** A TCP port on 127.0.0.1 that was just bound and closed: connecting to it is refused. */
export async function closedTcpPort(): Promise<number> {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', () => resolve()));
  const address = closed.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  return port;
}
