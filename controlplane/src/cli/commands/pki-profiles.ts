/**
 * What each `spookyctl pki` certificate is, as pure data: the file names in the PKI directory,
 * the subject, the SANs and the X.509v3 extensions handed to openssl. No I/O here, so the
 * profiles are unit-tested without openssl and the issuing shell (pki-openssl.ts) stays thin.
 *
 * Node identity: a data plane's certificate carries exactly one SAN, the URI
 * `spiffe://spooky/scope/<scope>/node/<node-id>`; the control plane's gRPC mTLS binds a session
 * to that scope and node id (issue 11). Keep this form in step with the control plane's parser.
 */
import { isIP } from 'node:net';
import { CliError } from '../cli-error.ts';
import { EXIT } from '../exit-codes.ts';

/** The four kinds of certificate `spookyctl pki` issues. */
export type PkiKind = 'ca' | 'server' | 'node' | 'client';

/** One certificate to issue: where it goes and what it says. */
export interface CertProfile {
  readonly kind: PkiKind;
  /** Base file name in the PKI directory: `<base>.crt` and `<base>.key`. */
  readonly base: string;
  /** The subject's common name (plain text; checked by NAME_PATTERN where it comes from a flag). */
  readonly commonName: string;
  /** openssl SAN entries, e.g. `DNS:localhost`, `IP:127.0.0.1`, `URI:spiffe://…`; empty for the CA. */
  readonly sans: readonly string[];
  readonly days: number;
}

/** The CA's files in every PKI directory (`ca.crt`, `ca.key`). */
export const CA_BASE = 'ca';
/** Defaults: a dev CA lives a year, leaves 90 days (renew by issuing again with --force). */
export const DEFAULT_CA_DAYS = 365;
export const DEFAULT_LEAF_DAYS = 90;
/** Default SANs of `pki server`: every loopback name a local control plane is reached by. */
export const DEFAULT_SERVER_SANS = 'DNS:localhost,IP:127.0.0.1,IP:::1';

/** --name and --node-id: file-name safe and URI-unreserved, so neither needs escaping anywhere. */
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$/;
const SCOPE_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
const DNS_PATTERN = /^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$/;

function usage(message: string): CliError {
  return new CliError('usage', message, EXIT.error);
}

/** Checks a --name / --node-id value (what: the flag, for the message). */
export function checkName(value: string, what: string): string {
  if (!NAME_PATTERN.test(value)) throw usage(`${what} must match [A-Za-z0-9][A-Za-z0-9._~-]{0,127}, got ${JSON.stringify(value)}`);
  return value;
}

/** The node identity URI a data plane's certificate carries. */
export function nodeIdentityUri(scope: string, nodeId: string): string {
  if (!SCOPE_PATTERN.test(scope)) throw usage('--scope must match [a-z0-9][a-z0-9-]{0,62}');
  return `spiffe://spooky/scope/${scope}/node/${checkName(nodeId, '--node-id')}`;
}

/**
 * Parses a --san list (`DNS:a,IP:127.0.0.1,URI:spiffe://x/y`) into openssl entries. Each entry is
 * checked, so nothing but a well-formed name reaches the extensions file (no newline, no comma,
 * no other openssl directive). IPv6 addresses are written as openssl takes them (`IP:::1`).
 */
export function parseSans(text: string): string[] {
  const entries = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (entries.length === 0) throw usage('--san must list at least one DNS:name, IP:address or URI:uri');
  return entries.map((entry) => {
    const colon = entry.indexOf(':');
    const type = entry.slice(0, colon).toUpperCase();
    const value = entry.slice(colon + 1);
    const ok =
      colon > 0 &&
      ((type === 'DNS' && DNS_PATTERN.test(value) && value.length <= 253) ||
        (type === 'IP' && isIP(value) !== 0) ||
        (type === 'URI' && /^[a-z][a-z0-9+.-]*:\/\/[!-~]+$/i.test(value) && !value.includes(',') && URL.canParse(value)));
    if (!ok) throw usage(`--san entry ${JSON.stringify(entry)} is not DNS:name, IP:address or URI:scheme://…`);
    return `${type}:${value}`;
  });
}

/** Checks --days (a whole number of days, 1 … 3650). */
export function parseDays(text: string | null, fallback: number): number {
  if (text === null) return fallback;
  if (!/^[1-9]\d{0,3}$/.test(text) || Number(text) > 3650) throw usage(`--days must be a whole number from 1 to 3650, got ${JSON.stringify(text)}`);
  return Number(text);
}

/**
 * The extensions section (`[v3]`) for openssl's `-extfile`: the CA may sign leaves only
 * (pathlen 0); a server certificate is for serverAuth, node and client ones for clientAuth.
 */
export function extensionsFor(profile: CertProfile): string {
  const lines =
    profile.kind === 'ca'
      ? ['basicConstraints = critical, CA:TRUE, pathlen:0', 'keyUsage = critical, keyCertSign, cRLSign', 'subjectKeyIdentifier = hash']
      : [
          'basicConstraints = critical, CA:FALSE',
          'keyUsage = critical, digitalSignature',
          `extendedKeyUsage = ${profile.kind === 'server' ? 'serverAuth' : 'clientAuth'}`,
          'subjectKeyIdentifier = hash',
          'authorityKeyIdentifier = keyid, issuer',
          ...(profile.sans.length > 0 ? [`subjectAltName = ${profile.sans.join(', ')}`] : []),
        ];
  return `[v3]\n${lines.join('\n')}\n`;
}
