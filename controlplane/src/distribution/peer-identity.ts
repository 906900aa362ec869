/**
 * The I/O half of node identity: reads the verified peer certificate of a ConfigSync call (grpc-js
 * `getAuthContext().sslPeerCertificate`, present only on a TLS listener) and asks the pure
 * authorizeNode (node-identity.ts) about the Hello. Called by the session once per Hello, on
 * mutual-TLS listeners only.
 */
import type { Hello } from '@spooky/proto';
import { authorizeNode, type NodeAuthVerdict } from './node-identity.ts';

/** What the session needs of its call: grpc-js server calls have it; test doubles may not. */
export interface PeerCertificateSource {
  getAuthContext?: () => { sslPeerCertificate?: { subjectaltname?: string } } | null;
}

/** The verdict on `hello` for the certificate of `call`'s peer (none → no_certificate; no SAN → bad_identity). */
export function checkPeerIdentity(call: PeerCertificateSource, hello: Pick<Hello, 'scope' | 'nodeId'>): NodeAuthVerdict {
  const cert = typeof call.getAuthContext === 'function' ? call.getAuthContext()?.sslPeerCertificate : undefined;
  const san = cert === undefined ? undefined : (cert.subjectaltname ?? '');
  return authorizeNode(san, hello.scope, hello.nodeId);
}
