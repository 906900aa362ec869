/**
 * The `tls` block of a listener (input form): the default certificate (`cert` + `key`), more
 * certificates chosen by the client's SNI (`certificates[]`), and client-certificate auth on
 * the TLS TCP side (`client_auth`). See listener-tls-types.ts for the normalized form and
 * listener-tls-checks.ts for the rules a schema cannot express.
 */
import { Type } from '@sinclair/typebox';

const closed = { additionalProperties: false } as const;

/** An HTTP header field name (RFC 9110 token), as the client-certificate headers are named. */
export const HEADER_NAME_PATTERN = "^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$";

export const SniCertificateSchema = Type.Object(
  {
    server_name: Type.String({
      minLength: 1,
      maxLength: 253,
      description: 'Exact DNS name, or *.suffix matching exactly one more label (never the suffix itself).',
    }),
    cert: Type.String({ minLength: 1, description: 'Path of the PEM certificate chain served for this name.' }),
    key: Type.String({ minLength: 1, description: 'Path of its PEM private key (never inlined).' }),
  },
  closed,
);

export const ClientAuthSchema = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean({ description: 'Default true when the block is given.' })),
    require_client_cert: Type.Optional(
      Type.Boolean({ description: 'Default true: a TLS client without a valid certificate fails the handshake. false: optional.' }),
    ),
    ca_file: Type.Optional(Type.String({ minLength: 1, description: 'PEM bundle of the CAs client certificates must chain to. Required when enabled.' })),
    subject_header: Type.Optional(
      Type.String({ pattern: HEADER_NAME_PATTERN, description: 'Request header carrying the verified subject upstream. Default x-client-cert-subject.' }),
    ),
    fingerprint_header: Type.Optional(
      Type.String({ pattern: HEADER_NAME_PATTERN, description: 'Request header carrying its SHA-256 fingerprint. Default x-client-cert-sha256.' }),
    ),
  },
  closed,
);

export const ListenerTlsSchema = Type.Object(
  {
    cert: Type.Optional(Type.String({ minLength: 1, description: 'Path of the default PEM certificate chain (default: the first of certificates).' })),
    key: Type.Optional(Type.String({ minLength: 1, description: 'Path of the default PEM private key (never inlined).' })),
    certificates: Type.Optional(Type.Array(SniCertificateSchema, { maxItems: 256, description: 'Certificates chosen by SNI.' })),
    client_auth: Type.Optional(ClientAuthSchema),
  },
  closed,
);
