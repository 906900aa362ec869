/**
 * Issues one certificate of a CertProfile with the system's `openssl` (Node has no API that
 * creates certificates, and spookyctl takes no npm dependency for it). Everything is made in a
 * private temp directory inside the PKI directory (mode 0700), the key is chmod 0600, and both
 * files are renamed into place only once the certificate is complete, so a failure never leaves
 * a half-written pair. openssl runs with its own minimal config, not the system's openssl.cnf.
 * Key material is never read into an error or a result: only paths, names and fingerprints.
 */
import { execFile } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CliError } from '../cli-error.ts';
import { EXIT } from '../exit-codes.ts';
import { CA_BASE, type CertProfile, extensionsFor } from './pki-profiles.ts';

/** What was written: paths and public facts of the certificate (never the key's content). */
export interface IssuedCert {
  readonly kind: CertProfile['kind'];
  readonly cert: string;
  readonly key: string;
  readonly subject: string;
  readonly issuer: string;
  readonly subjectAltName: string | null;
  readonly validTo: string;
  readonly fingerprint256: string;
}

/** Runs openssl; a missing binary and a failing run become CliErrors (openssl's stderr tail only). */
function openssl(args: readonly string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { cwd, timeout: 30_000 }, (err, _stdout, stderr) => {
      if (err === null) return resolve();
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        return reject(new CliError('openssl_missing', 'openssl is not on PATH: spookyctl pki needs the openssl command (Debian: apt-get install openssl)', EXIT.error));
      }
      const tail = String(stderr).trim().split('\n').slice(-2).join(' / ');
      reject(new CliError('openssl_failed', `openssl ${args[0]} failed: ${tail || err.message}`, EXIT.error));
    });
  });
}

/** The CA's files in `dir`, or a CliError saying how to make them. */
export function caFiles(dir: string): { cert: string; key: string } {
  const cert = join(dir, `${CA_BASE}.crt`);
  const key = join(dir, `${CA_BASE}.key`);
  if (!existsSync(cert) || !existsSync(key)) {
    throw new CliError('pki_no_ca', `no CA in ${dir} (${CA_BASE}.crt and ${CA_BASE}.key): run spookyctl pki init-ca --dir ${dir} first`, EXIT.error);
  }
  return { cert, key };
}

/**
 * Issues `profile` into `dir` (created 0700 when missing): self-signed for the CA, else signed by
 * the CA in `dir`. Refuses (exit 1, code `pki_exists`) when either target file exists, unless
 * `force`. The serial is 16 random bytes, so no serial file is kept.
 */
export async function issue(dir: string, profile: CertProfile, force: boolean): Promise<IssuedCert> {
  const ca = profile.kind === 'ca' ? null : caFiles(dir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const cert = join(dir, `${profile.base}.crt`);
  const key = join(dir, `${profile.base}.key`);
  const existing = [cert, key].filter((f) => existsSync(f));
  if (existing.length > 0 && !force) {
    throw new CliError('pki_exists', `${existing.join(' and ')} already exist${existing.length === 1 ? 's' : ''}: pass --force to replace`, EXIT.error);
  }
  const tmp = mkdtempSync(join(dir, '.pki-'));
  try {
    writeFileSync(join(tmp, 'req.cnf'), '[req]\ndistinguished_name = dn\nprompt = no\n[dn]\n');
    writeFileSync(join(tmp, 'ext.cnf'), extensionsFor(profile));
    await openssl(
      ['req', '-new', '-config', 'req.cnf', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-subj', `/CN=${profile.commonName}`, '-keyout', 'leaf.key', '-out', 'leaf.csr'],
      tmp,
    );
    chmodSync(join(tmp, 'leaf.key'), 0o600);
    const signer = ca === null ? ['-signkey', 'leaf.key'] : ['-CA', resolve(ca.cert), '-CAkey', resolve(ca.key)];
    await openssl(
      ['x509', '-req', '-in', 'leaf.csr', ...signer, '-set_serial', `0x${randomBytes(16).toString('hex')}`, '-days', String(profile.days),
        '-sha256', '-extfile', 'ext.cnf', '-extensions', 'v3', '-out', 'leaf.crt'],
      tmp,
    );
    const x509 = new X509Certificate(readFileSync(join(tmp, 'leaf.crt')));
    chmodSync(join(tmp, 'leaf.crt'), 0o644);
    renameSync(join(tmp, 'leaf.key'), key);
    renameSync(join(tmp, 'leaf.crt'), cert);
    return {
      kind: profile.kind,
      cert,
      key,
      subject: x509.subject,
      issuer: x509.issuer,
      subjectAltName: x509.subjectAltName ?? null,
      validTo: new Date(x509.validTo).toISOString(),
      fingerprint256: x509.fingerprint256,
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
