/**
 * Client-certificate identity of a TLS TCP connection, decided once per connection at the
 * end of its handshake ('secureConnection') and recorded on the socket, so a request only
 * reads one property.
 *
 * - verified (node's `authorized`): the identity is recorded;
 * - a certificate presented that does not verify: the connection is destroyed, also when
 *   certificates are optional (Envoy does the same: optional means "may be absent", never
 *   "may be wrong"); with `required` node destroys it itself;
 * - no certificate (optional mode): nothing recorded, requests go on without the headers.
 */
import { createHash } from 'node:crypto';
import type { Http2SecureServer } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import type { ClientAuthMaterial } from '../listener-spec.ts';

export interface ClientIdentity {
  /** Subject RDNs in certificate order joined by ',' (OpenSSL's RFC 2253 escaping); non-ASCII percent-encoded. */
  readonly subject: string;
  /** SHA-256 of the DER certificate, lowercase hex. */
  readonly sha256: string;
}

const IDENTITY = Symbol('spooky.clientIdentity');

/** `policy()` is read per handshake, so a reload changes it for new connections only. */
export function watchClientCertificates(server: Http2SecureServer, policy: () => ClientAuthMaterial | null): void {
  server.on('secureConnection', (socket: TLSSocket) => {
    if (policy() === null) return;
    if (socket.authorized) {
      const cert = socket.getPeerX509Certificate();
      if (cert) (socket as unknown as Record<symbol, ClientIdentity>)[IDENTITY] = identityOf(cert.subject, cert.raw);
      return;
    }
    if (socket.getPeerX509Certificate() !== undefined) socket.destroy();
  });
}

/** The verified identity of the connection `socket` (a TLSSocket or node's http2 socket proxy). */
export function clientIdentityOf(socket: object | null | undefined): ClientIdentity | undefined {
  return socket ? (socket as Record<symbol, ClientIdentity | undefined>)[IDENTITY] : undefined;
}

export function identityOf(subject: string, der: Buffer): ClientIdentity {
  return {
    subject: subject.split('\n').join(',').replace(/[^\x20-\x7e]/gu, (c) => encodeURIComponent(c)),
    sha256: createHash('sha256').update(der).digest('hex'),
  };
}
