/** The normalized `tls` block of a listener (see listener-tls-schema.ts for the input form). */

/** A certificate served when the client's SNI matches `server_name`. */
export interface SniCertificate {
  /** Lowercased, no trailing dot; `*.suffix` matches exactly one label before the suffix. */
  readonly server_name: string;
  readonly cert: string;
  readonly key: string;
}

export interface ClientAuth {
  readonly enabled: boolean;
  /** true: no valid client certificate → the TLS handshake fails; false: optional. */
  readonly require_client_cert: boolean;
  /** Non-null when enabled (semantic check). */
  readonly ca_file: string | null;
  /** Lowercased header names; always stripped from client requests on this listener. */
  readonly subject_header: string;
  readonly fingerprint_header: string;
}

export interface ListenerTls {
  /** The default certificate: `tls.cert`/`tls.key`, else the first of `certificates`. */
  readonly cert: string;
  readonly key: string;
  /** Present only when given and non-empty (keeps older documents' canonical form). */
  readonly certificates?: readonly SniCertificate[];
  /** Present only when given. */
  readonly client_auth?: ClientAuth;
}

export const CLIENT_AUTH_DEFAULTS = {
  subjectHeader: 'x-client-cert-subject',
  fingerprintHeader: 'x-client-cert-sha256',
} as const;
