/**
 * Certificates and client-certificate verification of the TLS TCP side (HTTP/1.1 + HTTP/2),
 * applied to the library's node:http2 server (library-internals.ts `tcpServerOf`) with
 * node:tls's public server API, for new handshakes only (established connections keep the
 * context they were made with):
 *
 * - `setSecureContext({cert, key, ca})` replaces the default context (unknown or absent SNI).
 * - `addContext(serverName, context)` adds one SNI context. node tries them last-added first
 *   and turns `*` into one label (`[^.]*`, case-insensitive), so wildcards are added before
 *   exact names: an exact name always beats a wildcard. A change re-adds the whole list, then
 *   drops the entries it shadows from node's `_contexts` array (memory only: if that
 *   undocumented array ever changes shape the older entries simply stay shadowed).
 * - Client certificates: node reads the server's `requestCert` / `rejectUnauthorized`
 *   properties for every new connection (tlsConnectionListener, node 24); every context
 *   carries the CA bundle, since OpenSSL verifies against the context SNI picked.
 *
 * The library gives no SNI callback and no way to pass `SNICallback` to its server; a
 * per-server SNICallback would need node's private `kSNICallback` symbol, so it is not used.
 */
import type { Http2SecureServer } from 'node:http2';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { ClientAuthMaterial, SniMaterial } from '../listener-spec.ts';

export interface TcpTlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly sni: readonly SniMaterial[];
  readonly clientAuth: ClientAuthMaterial | null;
}

/** Throws (nothing changed) when node rejects material; read-listener-spec.ts checked it before. */
export function applyTcpTls(server: Http2SecureServer, material: TcpTlsMaterial): void {
  const ca = material.clientAuth?.ca;
  const contexts: Array<[string, SecureContext]> = orderedForNode(material.sni).map((s) => [
    s.serverName,
    createSecureContext({ cert: s.cert, key: s.key, ...(ca ? { ca } : {}) }),
  ]);
  server.setSecureContext({ cert: material.cert, key: material.key, ...(ca ? { ca } : {}) });
  const list = contextList(server);
  const before = list?.length ?? 0;
  for (const [name, context] of contexts) server.addContext(name, context);
  list?.splice(0, before);
  const mutable = server as unknown as { requestCert: boolean; rejectUnauthorized: boolean };
  mutable.requestCert = material.clientAuth !== null;
  mutable.rejectUnauthorized = material.clientAuth?.required ?? true;
}

/** Wildcards first, exact names last (node's lookup goes from the last entry back). */
export function orderedForNode(sni: readonly SniMaterial[]): SniMaterial[] {
  return [...sni.filter((s) => s.serverName.startsWith('*.')), ...sni.filter((s) => !s.serverName.startsWith('*.'))];
}

function contextList(server: Http2SecureServer): unknown[] | null {
  const list = (server as unknown as { _contexts?: unknown })._contexts;
  return Array.isArray(list) && list.every((e) => Array.isArray(e) && e[0] instanceof RegExp) ? list : null;
}
