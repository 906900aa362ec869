/**
 * Test support for connection-limit tests: guards with chosen limits that record what they
 * report, bounded waits, and raw clients (plain TCP, TLS) that misbehave on purpose.
 */
import { once } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { ConnectionAdmission } from '../ingress/limits/connection-admission.ts';
import { type ConnectionLimits, DEFAULT_CONNECTION_LIMITS } from '../ingress/limits/connection-limits.ts';
import type { ConnectionEvents } from '../ingress/limits/connection-metrics.ts';
import type { ListenerGuards } from '../ingress/serving-listener.ts';

export interface RecordingGuards extends ListenerGuards {
  /** `reason` of every rejected connection, in order. */
  readonly rejected: string[];
  /** `reason` of every connection closed by a limit, in order. */
  readonly closed: string[];
}

export function recordingGuards(limits: Partial<ConnectionLimits>): RecordingGuards {
  const rejected: string[] = [];
  const closed: string[] = [];
  const events: ConnectionEvents = {
    rejected: (_listener, reason) => rejected.push(reason),
    closed: (_listener, reason) => closed.push(reason),
  };
  return { admission: new ConnectionAdmission({ ...DEFAULT_CONNECTION_LIMITS, ...limits }), events, rejected, closed };
}

/** `promise`, or a rejection naming `what` after `ms`. */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A TCP connection that sends nothing. Errors (resets) are expected and swallowed. */
export async function rawTcp(port: number): Promise<Socket> {
  const socket = netConnect(port, '127.0.0.1');
  socket.on('error', () => {});
  await once(socket, 'connect');
  return socket;
}

/** A finished TLS handshake offering `alpn`, nothing sent after it. */
export async function rawTls(port: number, alpn: string): Promise<TLSSocket> {
  const socket = tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false, ALPNProtocols: [alpn], servername: 'localhost' });
  socket.on('error', () => {});
  await once(socket, 'secureConnect');
  return socket;
}

/** Resolves when the socket is closed, with what the server sent before closing. */
export function closedWith(socket: Socket): Promise<string> {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  return new Promise((resolve) => {
    if (socket.destroyed) resolve('');
    else socket.once('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
  });
}

/** Resolves once `condition()` holds (checked every 10 ms); rejects after `ms`. */
export async function until(ms: number, what: string, condition: () => boolean): Promise<void> {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
