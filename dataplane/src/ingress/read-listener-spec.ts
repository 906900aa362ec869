/**
 * Reads and checks every file a listener's `tls` block names — the default certificate and
 * key, each SNI certificate and key, the client CA bundle — into a ListenerSpec, before any
 * socket is touched. A half-written or mismatched file is an issue here, so it is never loaded
 * (this is also what makes a reload on file change safe: see certificate-watcher.ts).
 *
 * Issues point into the data plane's listener list (`/listeners/<i>/tls/...`) and never
 * quote key material or key paths (listener-issues.ts).
 */
import { readFile } from 'node:fs/promises';
import { CLIENT_AUTH_DEFAULTS, type Listener } from '@spooky/config';
import { fileSignature } from './certificate-watcher.ts';
import { type ListenerIssue, unreadableIssue } from './listener-issues.ts';
import type { ClientAuthMaterial, ListenerSpec, SniMaterial } from './listener-spec.ts';
import { invalidCaIssue, invalidTlsIssue } from './tls-material.ts';

export type SpecResult = { readonly ok: true; readonly spec: ListenerSpec } | { readonly ok: false; readonly failures: ListenerIssue[] };

export async function readListenerSpec(l: Listener, i: number): Promise<SpecResult> {
  const failures: ListenerIssue[] = [];
  // Stat before reading: a change after this point shows as a difference at the next poll.
  const paths = watchedPaths(l);
  const signatures = new Map(await Promise.all(paths.map(async (p): Promise<[string, string]> => [p, await fileSignature(p)])));
  const base = `/listeners/${i}/tls`;
  const pair = async (certPath: string, keyPath: string, at: string): Promise<{ cert: Buffer; key: Buffer } | null> => {
    const [cert, key] = await Promise.all([
      readFile(certPath).catch((err: unknown) => {
        failures.push(unreadableIssue(i, 'cert', certPath, err, at));
        return null;
      }),
      readFile(keyPath).catch((err: unknown) => {
        failures.push(unreadableIssue(i, 'key', keyPath, err, at));
        return null;
      }),
    ]);
    if (!cert || !key) return null;
    const invalid = invalidTlsIssue(i, cert, key, at);
    if (invalid) {
      failures.push(invalid);
      return null;
    }
    return { cert, key };
  };
  const auth = l.tls.client_auth;
  const [main, sniPairs, ca] = await Promise.all([
    pair(l.tls.cert, l.tls.key, base),
    Promise.all((l.tls.certificates ?? []).map((c, j) => pair(c.cert, c.key, `${base}/certificates/${j}`))),
    auth?.enabled && auth.ca_file !== null ? readCa(auth.ca_file) : Promise.resolve(null),
  ]);
  if (ca instanceof Error) failures.push(unreadableIssue(i, 'ca_file', auth?.ca_file ?? '', ca, base));
  else if (ca) {
    const invalid = invalidCaIssue(ca, `${base}/client_auth/ca_file`);
    if (invalid) failures.push(invalid);
  }
  if (failures.length > 0 || !main) return { ok: false, failures };
  const sni: SniMaterial[] = (l.tls.certificates ?? []).map((c, j) => ({ serverName: c.server_name, ...(sniPairs[j] as { cert: Buffer; key: Buffer }) }));
  const clientAuth: ClientAuthMaterial | null =
    auth?.enabled && ca instanceof Buffer
      ? { required: auth.require_client_cert, ca, subjectHeader: auth.subject_header, fingerprintHeader: auth.fingerprint_header }
      : null;
  return {
    ok: true,
    spec: {
      address: l.address,
      port: l.port,
      certPath: l.tls.cert,
      keyPath: l.tls.key,
      cert: main.cert,
      key: main.key,
      sni,
      clientAuth,
      strippedHeaders: strippedHeaders(l),
      fileSignatures: signatures,
    },
  };
}

async function readCa(path: string): Promise<Buffer | Error> {
  return readFile(path).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
}

/** Client-certificate header names removed from every request on this listener. */
function strippedHeaders(l: Listener): readonly [string, string] {
  const auth = l.tls.client_auth;
  return auth ? [auth.subject_header, auth.fingerprint_header] : [CLIENT_AUTH_DEFAULTS.subjectHeader, CLIENT_AUTH_DEFAULTS.fingerprintHeader];
}

function watchedPaths(l: Listener): string[] {
  const paths = [l.tls.cert, l.tls.key];
  for (const c of l.tls.certificates ?? []) paths.push(c.cert, c.key);
  const auth = l.tls.client_auth;
  if (auth?.enabled && auth.ca_file !== null) paths.push(auth.ca_file);
  return [...new Set(paths)];
}
