/** Input `tls` block of a listener → its normalized form (defaults filled, names lowercased). */
import type { Static } from '@sinclair/typebox';
import type { ListenerTlsSchema } from './listener-tls-schema.ts';
import { CLIENT_AUTH_DEFAULTS, type ClientAuth, type ListenerTls, type SniCertificate } from './listener-tls-types.ts';

export type ListenerTlsInput = Static<typeof ListenerTlsSchema>;

/** Lowercase, one trailing dot stripped: the form SNI names are compared in. */
export function normalizeServerName(name: string): string {
  const lower = name.trim().toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

export function normalizeListenerTls(input: ListenerTlsInput): ListenerTls {
  const certificates: SniCertificate[] = (input.certificates ?? []).map((c) => ({
    server_name: normalizeServerName(c.server_name),
    cert: c.cert,
    key: c.key,
  }));
  const first = certificates[0];
  // Missing cert/key with no certificates is a semantic issue; '' never reaches a data plane.
  const tls: { -readonly [K in keyof ListenerTls]: ListenerTls[K] } = {
    cert: input.cert ?? first?.cert ?? '',
    key: input.key ?? first?.key ?? '',
  };
  if (certificates.length > 0) tls.certificates = certificates;
  if (input.client_auth) tls.client_auth = normalizeClientAuth(input.client_auth);
  return tls;
}

function normalizeClientAuth(input: NonNullable<ListenerTlsInput['client_auth']>): ClientAuth {
  return {
    enabled: input.enabled ?? true,
    require_client_cert: input.require_client_cert ?? true,
    ca_file: input.ca_file ?? null,
    subject_header: (input.subject_header ?? CLIENT_AUTH_DEFAULTS.subjectHeader).toLowerCase(),
    fingerprint_header: (input.fingerprint_header ?? CLIENT_AUTH_DEFAULTS.fingerprintHeader).toLowerCase(),
  };
}
