/**
 * The schema and normalized type of `upstream.<name>.tls` (see upstream-tls.ts for what the
 * fields mean and how they resolve over the global `upstream_tls`). Kept apart so schema.ts and
 * types.ts can use them without a cycle.
 */
import { type Static, Type } from '@sinclair/typebox';

export const UpstreamTlsOverrideSchema = Type.Object(
  {
    verify_certificates: Type.Optional(Type.Boolean({ description: 'Default: upstream_tls.verify_certificates. Disabling it logs a warning.' })),
    ca_file: Type.Optional(Type.String({ minLength: 1, description: 'PEM bundle of trusted CAs; with ca_dir, replaces the global CA set for this upstream.' })),
    ca_dir: Type.Optional(Type.String({ minLength: 1, description: 'Directory of *.pem / *.crt CA files; with ca_file, replaces the global CA set for this upstream.' })),
    server_name: Type.Optional(Type.String({ minLength: 1, maxLength: 253, description: 'SNI and verification name. Default: the backend host.' })),
    strict_sni: Type.Optional(Type.Boolean({ description: 'Always send SNI and verify against that DNS name, never an IP. Default false.' })),
    cert: Type.Optional(Type.String({ minLength: 1, description: 'Client certificate chain (PEM path) for upstream mTLS; needs key.' })),
    key: Type.Optional(Type.String({ minLength: 1, description: 'Private key of cert (PEM path on the data plane, never inlined).' })),
  },
  { additionalProperties: false },
);

export type UpstreamTlsOverrideInput = Static<typeof UpstreamTlsOverrideSchema>;

/** Normalized `upstream.<name>.tls`: null = not given (then the global value applies). */
export interface UpstreamTlsOverride {
  readonly verify_certificates: boolean | null;
  readonly ca_file: string | null;
  readonly ca_dir: string | null;
  /** Lowercased, trailing dot stripped. */
  readonly server_name: string | null;
  readonly strict_sni: boolean;
  readonly cert: string | null;
  readonly key: string | null;
}
