/**
 * Test support: one serving listener (HTTP/3 + TLS TCP) on a fresh loopback port with a fresh
 * self-signed certificate, logging nothing, answering with `handler`. Close it with
 * `listener.close(0)`.
 */
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { type ExchangeHandler, openServingListener, type ServingListener } from '../ingress/serving-listener.ts';
import { freeUdpTcpPort } from './free-port.ts';
import { makeSelfSignedCert } from './self-signed-cert.ts';

export async function openTestListener(handler: ExchangeHandler): Promise<{ listener: ServingListener; port: number }> {
  const cert = makeSelfSignedCert();
  const port = await freeUdpTcpPort();
  const listener = await openServingListener(
    { address: '127.0.0.1', port, certPath: cert.certPath, keyPath: cert.keyPath, cert: readFileSync(cert.certPath), key: readFileSync(cert.keyPath) },
    handler,
    pino({ level: 'silent' }),
  );
  return { listener, port };
}
