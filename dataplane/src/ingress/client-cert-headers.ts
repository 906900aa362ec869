/**
 * Client-certificate headers of one request: every header of `stripped` the client sent is
 * removed (a client can never forge them, on any protocol), then the verified identity of
 * the connection is added under the listener's names.
 *
 * Cost per request: one pass over the header list comparing names (no allocation unless a
 * forged header is found), plus two pushes when an identity is present.
 */
import type { HeaderList } from '../http/exchange.ts';
import type { ClientAuthMaterial } from './listener-spec.ts';
import type { ClientIdentity } from './tcp/client-cert-identity.ts';

export function applyClientCertHeaders(
  headers: HeaderList,
  stripped: readonly string[],
  identity: ClientIdentity | undefined,
  auth: ClientAuthMaterial | null,
): void {
  for (let i = headers.length - 1; i >= 0; i--) {
    const name = (headers[i] as [string, string])[0];
    if (stripped.includes(name)) headers.splice(i, 1);
  }
  if (identity && auth) {
    headers.push([auth.subjectHeader, identity.subject]);
    headers.push([auth.fingerprintHeader, identity.sha256]);
  }
}
