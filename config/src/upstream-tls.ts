/**
 * Per-upstream TLS (`upstream.<name>.tls`): overrides of the global `upstream_tls` for one
 * upstream's HTTPS backends, plus what only makes sense per upstream — the server name to
 * send and verify, strict SNI, and a client certificate for upstream mTLS.
 *
 * Resolution (`upstreamTls`), field by field:
 *   - `verify_certificates`: the upstream's when given, else the global one.
 *   - CAs: when the upstream gives `ca_file` and/or `ca_dir`, exactly those are trusted (the
 *     global CA set is NOT merged in); else the global `ca_file` / `ca_dir`; else system roots.
 *   - `server_name`: SNI and the name the certificate is verified against; default the
 *     backend's host (no SNI for an IP literal, which is then verified against IP SANs).
 *   - `strict_sni` (default false): every HTTPS backend of the upstream is reached with SNI and
 *     its certificate is verified against that DNS name, never against an IP address. So a
 *     backend given by IP needs `server_name` (`tls.strict_sni.server_name_required`), and
 *     verification must be on (`tls.strict_sni.unverified`).
 *   - `cert` + `key`: a client certificate chain and its private key (PEM file paths on the data
 *     plane), both or neither (`tls.client_cert.incomplete`). Read, parsed and checked to match
 *     when the generation is compiled (dataplane compile/upstream-tls-material.ts). `key` is a
 *     secret (redact-secrets.ts redacts every `key` field).
 */
import { parseBackendAddress } from './backend-address.ts';
import { escapePointer } from './pointer.ts';
import type { ConfigInput } from './schema.ts';
import type { Config, ConfigIssue } from './types.ts';
import type { UpstreamTlsOverride, UpstreamTlsOverrideInput } from './upstream-tls-schema.ts';

export type { UpstreamTlsOverride } from './upstream-tls-schema.ts';

/** A DNS name usable as SNI (RFC 6066 forbids IP literals there). */
const SERVER_NAME_PATTERN = /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/i;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** What applies to one upstream's HTTPS backends once the overrides are resolved. */
export interface ResolvedUpstreamTls {
  readonly verify_certificates: boolean;
  /** The CA set's source; both null = system roots. */
  readonly ca_file: string | null;
  readonly ca_dir: string | null;
  /** JSON Pointer of the object the CA paths come from (`/upstream_tls` or `/upstream/<n>/tls`), for issues. */
  readonly ca_pointer: string;
  readonly server_name: string | null;
  readonly strict_sni: boolean;
  readonly cert: string | null;
  readonly key: string | null;
}

export function normalizeUpstreamTls(input: UpstreamTlsOverrideInput | undefined): UpstreamTlsOverride | null {
  if (input === undefined) return null;
  let serverName = input.server_name?.trim().toLowerCase() ?? null;
  while (serverName?.endsWith('.')) serverName = serverName.slice(0, -1);
  return {
    verify_certificates: input.verify_certificates ?? null,
    ca_file: input.ca_file ?? null,
    ca_dir: input.ca_dir ?? null,
    server_name: serverName,
    strict_sni: input.strict_sni ?? false,
    cert: input.cert ?? null,
    key: input.key ?? null,
  };
}

/** The TLS settings of upstream `name` (see the file comment for the rules). Pure. */
export function upstreamTls(config: Config, name: string): ResolvedUpstreamTls {
  const own = config.upstream[name]?.tls ?? null;
  const global = config.upstream_tls;
  const ownCas = own !== null && (own.ca_file !== null || own.ca_dir !== null);
  return {
    verify_certificates: own?.verify_certificates ?? global.verify_certificates,
    ca_file: ownCas ? own.ca_file : global.ca_file,
    ca_dir: ownCas ? own.ca_dir : global.ca_dir,
    ca_pointer: ownCas ? `/upstream/${escapePointer(name)}/tls` : '/upstream_tls',
    server_name: own?.server_name ?? null,
    strict_sni: own?.strict_sni ?? false,
    cert: own?.cert ?? null,
    key: own?.key ?? null,
  };
}

/** Rules the schema cannot express, at pointers into the input document. */
export function upstreamTlsIssues(input: ConfigInput, config: Config): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const name of Object.keys(config.upstream)) {
    const own = config.upstream[name]?.tls ?? null;
    if (own === null) continue;
    const base = `/upstream/${escapePointer(name)}/tls`;
    const add = (field: string, code: string, message: string) => issues.push({ pointer: `${base}${field}`, code, message });
    if (own.server_name !== null && (IPV4.test(own.server_name) || own.server_name.includes(':') || !SERVER_NAME_PATTERN.test(own.server_name))) {
      add('/server_name', 'tls.server_name.invalid', 'server_name must be a DNS name (SNI cannot carry an IP address)');
    }
    if ((own.cert === null) !== (own.key === null)) {
      add(own.cert === null ? '/cert' : '/key', 'tls.client_cert.incomplete', 'a client certificate needs both cert and key');
    }
    if (own.strict_sni) {
      if ((own.verify_certificates ?? config.upstream_tls.verify_certificates) === false) {
        add('/strict_sni', 'tls.strict_sni.unverified', 'strict_sni verifies the certificate against the server name: verify_certificates must be true');
      }
      if (own.server_name === null) {
        const backends = input.upstream[name]?.backends ?? [];
        backends.forEach((b, i) => {
          const parsed = parseBackendAddress(b.address);
          if (parsed?.scheme === 'https' && (IPV4.test(parsed.host) || parsed.host.includes(':'))) {
            issues.push({
              pointer: `/upstream/${escapePointer(name)}/backends/${i}/address`,
              code: 'tls.strict_sni.server_name_required',
              message: 'strict_sni: an HTTPS backend given by IP address needs tls.server_name',
            });
          }
        });
      }
    }
  }
  return issues;
}
