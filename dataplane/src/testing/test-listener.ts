/**
 * Test support: one serving listener (HTTP/3 + TLS TCP) on a fresh loopback port with a fresh
 * self-signed certificate, logging nothing, answering with `handler`. Close it with
 * `listener.close(0)`.
 */
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { type ExchangeHandler, type ListenerGuards, openServingListener, type ServingListener } from '../ingress/serving-listener.ts';
import { freeUdpTcpPort } from './free-port.ts';
import { makeSelfSignedCert } from './self-signed-cert.ts';

/** `guards`: admission (with its limits) and metrics to use instead of a default admission. */
export async function openTestListener(handler: ExchangeHandler, guards?: ListenerGuards): Promise<{ listener: ServingListener; port: number }> {
  const cert = makeSelfSignedCert();
  const port = await freeUdpTcpPort();
  const listener = await openServingListener(
    {
      address: '127.0.0.1',
      port,
      certPath: cert.certPath,
      keyPath: cert.keyPath,
      cert: readFileSync(cert.certPath),
      key: readFileSync(cert.keyPath),
      sni: [],
      clientAuth: null,
      strippedHeaders: [],
      fileSignatures: new Map(),
    },
    handler,
    pino({ level: 'silent' }),
    guards,
  );
  return { listener, port };
}
