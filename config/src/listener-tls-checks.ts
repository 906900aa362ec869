/**
 * Semantic checks of a listener's `tls` block. `ptr` is the listener's pointer in the input
 * document (`/listen` or `/listeners/<i>`).
 *
 * Codes: `listener.tls.incomplete` (cert without key or key without cert),
 * `listener.tls.missing` (no default certificate and no certificates),
 * `listener.tls.server_name.invalid`, `listener.tls.server_name.duplicate`,
 * `listener.tls.client_auth.ca_missing` (enabled without ca_file),
 * `listener.tls.client_auth.header_invalid` (both headers share a name, or a name Spooky
 * itself sets or that carries framing).
 */

import type { ListenerTls } from './listener-tls-types.ts';
import type { ListenerTlsInput } from './normalize-listener-tls.ts';

type Add = (pointer: string, code: string, message: string) => void;

/** One DNS label: letters, digits, '-', '_' (no leading/trailing '-'), at most 63 bytes. */
const LABEL = '[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?';
const SERVER_NAME = new RegExp(`^(?:\\*\\.)?${LABEL}(?:\\.${LABEL})+$|^${LABEL}$`);

/** Headers the proxy sets or that frame the message: a client-certificate header may not reuse them. */
const RESERVED_HEADERS: ReadonlySet<string> = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'te',
  'upgrade',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-request-id',
]);

export function listenerTlsIssues(input: ListenerTlsInput, tls: ListenerTls, ptr: string, add: Add): void {
  const base = `${ptr}/tls`;
  if ((input.cert === undefined) !== (input.key === undefined)) {
    const missing = input.cert === undefined ? 'cert' : 'key';
    add(`${base}/${missing}`, 'listener.tls.incomplete', 'cert and key go together');
  }
  if (input.cert === undefined && input.key === undefined && (input.certificates ?? []).length === 0) {
    add(base, 'listener.tls.missing', 'a listener needs a certificate: tls.cert + tls.key, or tls.certificates');
  }
  const seen = new Set<string>();
  (tls.certificates ?? []).forEach((c, i) => {
    const at = `${base}/certificates/${i}/server_name`;
    if (!SERVER_NAME.test(c.server_name) || c.server_name.length > 253) {
      add(at, 'listener.tls.server_name.invalid', 'server_name must be a DNS name or *.suffix (the wildcard matches one label)');
    } else if (seen.has(c.server_name)) {
      add(at, 'listener.tls.server_name.duplicate', `server_name ${c.server_name} is given twice`);
    }
    seen.add(c.server_name);
  });
  const auth = tls.client_auth;
  if (!auth) return;
  if (auth.enabled && auth.ca_file === null) {
    add(`${base}/client_auth/ca_file`, 'listener.tls.client_auth.ca_missing', 'client_auth needs ca_file (the CAs client certificates must chain to)');
  }
  for (const which of ['subject_header', 'fingerprint_header'] as const) {
    if (RESERVED_HEADERS.has(auth[which])) {
      add(`${base}/client_auth/${which}`, 'listener.tls.client_auth.header_invalid', `${auth[which]} is set by the proxy itself`);
    }
  }
  if (auth.subject_header === auth.fingerprint_header) {
    add(`${base}/client_auth/fingerprint_header`, 'listener.tls.client_auth.header_invalid', 'subject and fingerprint headers need different names');
  }
}
