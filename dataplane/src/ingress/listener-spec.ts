/**
 * What one listener serves, with every file already read and checked (read-listener-spec.ts).
 * Key material is held in memory only to (re)build TLS contexts; never logged.
 */

/** A certificate chosen by the client's SNI on the TLS TCP side (HTTP/1.1, HTTP/2). */
export interface SniMaterial {
  /** Lowercase; `*.suffix` matches exactly one label. */
  readonly serverName: string;
  readonly cert: Buffer;
  readonly key: Buffer;
}

/** Client-certificate verification on the TLS TCP side. */
export interface ClientAuthMaterial {
  /** true: no valid certificate → handshake fails. false: optional (an invalid one still fails). */
  readonly required: boolean;
  /** PEM bundle client certificates must chain to. */
  readonly ca: Buffer;
  readonly subjectHeader: string;
  readonly fingerprintHeader: string;
}

export interface ListenerSpec {
  readonly address: string;
  readonly port: number;
  readonly certPath: string;
  readonly keyPath: string;
  /** The default certificate: served to unknown or absent SNI, and the only one over HTTP/3. */
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly sni: readonly SniMaterial[];
  readonly clientAuth: ClientAuthMaterial | null;
  /** Lowercase request header names removed from every client request (forgery guard). */
  readonly strippedHeaders: readonly string[];
  /** Every file this spec was read from → its signature just before reading (certificate-watcher.ts). */
  readonly fileSignatures: ReadonlyMap<string, string>;
}

/**
 * True when the TCP side's SNI and client-certificate material are byte-for-byte the same and
 * were read from the same file states (a touched file updates the spec, so the watcher
 * settles).
 */
export function sameTcpTls(a: ListenerSpec, b: ListenerSpec): boolean {
  const sameBytes = (x: Buffer, y: Buffer): boolean => Buffer.compare(x, y) === 0;
  const authA = a.clientAuth;
  const authB = b.clientAuth;
  const sameAuth =
    authA === null || authB === null
      ? authA === authB
      : authA.required === authB.required &&
        authA.subjectHeader === authB.subjectHeader &&
        authA.fingerprintHeader === authB.fingerprintHeader &&
        sameBytes(authA.ca, authB.ca);
  return (
    sameAuth &&
    a.sni.length === b.sni.length &&
    a.sni.every((s, i) => {
      const t = b.sni[i];
      return t !== undefined && s.serverName === t.serverName && sameBytes(s.cert, t.cert) && sameBytes(s.key, t.key);
    }) &&
    a.strippedHeaders.join('\n') === b.strippedHeaders.join('\n') &&
    [...a.fileSignatures].join('\n') === [...b.fileSignatures].join('\n')
  );
}
