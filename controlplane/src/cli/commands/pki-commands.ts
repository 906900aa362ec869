/**
 * spookyctl pki init-ca | server | node | client: a development PKI in one directory, made with
 * the system's openssl (no server call). Files: `ca.crt`/`ca.key`, then one `<base>.crt`/
 * `<base>.key` pair per certificate; keys are mode 0600 and their content is never printed,
 * only paths, subject, SANs, expiry and the SHA-256 fingerprint. An existing file is never
 * replaced without --force.
 *
 *   init-ca                         self-signed CA (CN "Spooky dev CA"), signs leaves only
 *   server [--name cp] [--san …]    control-plane server certificate (serverAuth), base = name
 *   node --node-id N                data-plane client certificate (clientAuth) whose only SAN is
 *                                   spiffe://spooky/scope/<--scope>/node/<N>; base node-<scope>-<N>
 *   client --name N [--san …]       REST mTLS caller certificate (clientAuth), base = name
 */
import { CliError } from '../cli-error.ts';
import { EXIT } from '../exit-codes.ts';
import type { CommandResult } from '../output.ts';
import { type IssuedCert, issue } from './pki-openssl.ts';
import {
  CA_BASE,
  type CertProfile,
  checkName,
  DEFAULT_CA_DAYS,
  DEFAULT_LEAF_DAYS,
  DEFAULT_SERVER_SANS,
  nodeIdentityUri,
  parseDays,
  parseSans,
} from './pki-profiles.ts';

export type PkiAction = 'init-ca' | 'server' | 'node' | 'client';

/** A parsed `pki` invocation; flags not given are null (checked here, not in args.ts). */
export interface PkiCommand {
  readonly action: PkiAction;
  readonly dir: string;
  readonly name: string | null;
  readonly san: string | null;
  readonly nodeId: string | null;
  readonly days: string | null;
  readonly force: boolean;
}

function usage(message: string): CliError {
  return new CliError('usage', message, EXIT.error);
}

/** The certificate a `pki` invocation asks for; `scope` is the global --scope (SPOOKY_SCOPE). */
export function profileOf(cmd: PkiCommand, scope: string): CertProfile {
  const refuse = (flag: string, value: string | null) => {
    if (value !== null) throw usage(`pki ${cmd.action} does not take ${flag}`);
  };
  switch (cmd.action) {
    case 'init-ca':
      refuse('--name', cmd.name);
      refuse('--san', cmd.san);
      refuse('--node-id', cmd.nodeId);
      return { kind: 'ca', base: CA_BASE, commonName: 'Spooky dev CA', sans: [], days: parseDays(cmd.days, DEFAULT_CA_DAYS) };
    case 'server': {
      refuse('--node-id', cmd.nodeId);
      const name = checkName(cmd.name ?? 'cp', '--name');
      if (name === CA_BASE) throw usage('--name ca is the CA\'s file name: pick another');
      return { kind: 'server', base: name, commonName: name, sans: parseSans(cmd.san ?? DEFAULT_SERVER_SANS), days: parseDays(cmd.days, DEFAULT_LEAF_DAYS) };
    }
    case 'node': {
      refuse('--san', cmd.san);
      if (cmd.nodeId === null) throw usage('pki node needs --node-id N (and --scope S, default "default")');
      const uri = nodeIdentityUri(scope, cmd.nodeId);
      const base = checkName(cmd.name ?? `node-${scope}-${cmd.nodeId}`, '--name');
      if (base === CA_BASE) throw usage('--name ca is the CA\'s file name: pick another');
      return { kind: 'node', base, commonName: cmd.nodeId, sans: [`URI:${uri}`], days: parseDays(cmd.days, DEFAULT_LEAF_DAYS) };
    }
    case 'client': {
      refuse('--node-id', cmd.nodeId);
      if (cmd.name === null) throw usage('pki client needs --name N (the caller, e.g. ci)');
      const name = checkName(cmd.name, '--name');
      if (name === CA_BASE) throw usage('--name ca is the CA\'s file name: pick another');
      return { kind: 'client', base: name, commonName: name, sans: cmd.san === null ? [] : parseSans(cmd.san), days: parseDays(cmd.days, DEFAULT_LEAF_DAYS) };
    }
  }
}

const WHAT: Readonly<Record<CertProfile['kind'], string>> = {
  ca: 'CA',
  server: 'server certificate (serverAuth)',
  node: 'node certificate (clientAuth)',
  client: 'client certificate (clientAuth)',
};

/** Runs one `pki` subcommand: issues the certificate and reports what was written. */
export async function pkiCommand(cmd: PkiCommand, scope: string): Promise<CommandResult> {
  const profile = profileOf(cmd, scope);
  const issued: IssuedCert = await issue(cmd.dir, profile, cmd.force);
  return {
    exitCode: EXIT.ok,
    data: issued,
    lines: [
      `created ${WHAT[issued.kind]} ${issued.cert} (key ${issued.key}, mode 0600)`,
      `  subject ${issued.subject.replaceAll('\n', ', ')}${issued.subjectAltName === null ? '' : `; SAN ${issued.subjectAltName}`}`,
      `  valid until ${issued.validTo}; sha256 ${issued.fingerprint256}`,
    ],
  };
}
