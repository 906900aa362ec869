/**
 * Alt-Svc honesty for SNI listeners. HTTP/3 serves only the default certificate (one per QUIC
 * server, see serving-listener.ts), so a client that reached the TLS TCP side with a name
 * only an SNI certificate covers would fail certificate verification over HTTP/3. Such
 * connections are marked at the end of their handshake, and their responses carry
 * `Alt-Svc: clear` instead of advertising h3. Names the default certificate covers (its SANs,
 * wildcards included) and names no SNI entry matches (the TCP side served the default too)
 * keep the usual Alt-Svc.
 *
 * Cost: one name match + at most one `X509Certificate.checkHost` per TLS connection on
 * listeners with `tls.certificates`; one property read per request there.
 */
import { X509Certificate } from 'node:crypto';
import type { Http2SecureServer } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import type { SniMaterial } from '../listener-spec.ts';

const NO_H3 = Symbol('spooky.noH3');

/** `pattern`: a lowercase name or `*.suffix` (exactly one label); `name` lowercase. */
export function serverNameMatches(pattern: string, name: string): boolean {
  if (!pattern.startsWith('*.')) return pattern === name;
  const dot = name.indexOf('.');
  return dot > 0 && name.slice(dot + 1) === pattern.slice(2);
}

export class H3Coverage {
  readonly #default: X509Certificate | null;
  readonly #patterns: readonly string[];

  constructor(defaultCert: Buffer, sni: readonly SniMaterial[]) {
    let parsed: X509Certificate | null = null;
    try {
      parsed = new X509Certificate(defaultCert);
    } catch {
      // Checked before loading (tls-material.ts); unparsable here means "covers nothing".
    }
    this.#default = parsed;
    this.#patterns = sni.map((s) => s.serverName);
  }

  /** True when an SNI certificate serves `servername` but the default certificate does not cover it. */
  uncovered(servername: string): boolean {
    const name = servername.toLowerCase();
    if (!this.#patterns.some((p) => serverNameMatches(p, name))) return false;
    return this.#default?.checkHost(name) === undefined;
  }
}

/** `coverage()` is read per handshake (null: the listener has no SNI certificates). */
export function markH3Coverage(server: Http2SecureServer, coverage: () => H3Coverage | null): void {
  server.on('secureConnection', (socket: TLSSocket) => {
    const c = coverage();
    const name = (socket as { servername?: unknown }).servername;
    if (c !== null && typeof name === 'string' && name !== '' && c.uncovered(name)) (socket as unknown as Record<symbol, boolean>)[NO_H3] = true;
  });
}

/** True when the connection of `socket` (TLSSocket or node's http2 socket proxy) was marked. */
export function h3Uncovered(socket: object | null): boolean {
  return socket !== null && (socket as Record<symbol, boolean | undefined>)[NO_H3] === true;
}
