/**
 * Test support (never imported by production code): a throwaway self-signed certificate made
 * with the system's openssl, for listeners and TLS origins bound to 127.0.0.1.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CertFiles {
  /** The directory holding both files (a fresh temp dir unless one was given). */
  readonly dir: string;
  readonly certPath: string;
  readonly keyPath: string;
}

/**
 * Writes a fresh P-256 certificate valid one day for 127.0.0.1 / localhost as
 * `<dir>/<name>.crt` and `<dir>/<name>.key`. The certificate is its own CA (use it as `ca`).
 */
export function makeSelfSignedCert(dir: string = mkdtempSync(join(tmpdir(), 'spooky-cert-')), name = 'tls'): CertFiles {
  const certPath = join(dir, `${name}.crt`);
  const keyPath = join(dir, `${name}.key`);
  execFileSync(
    'openssl',
    [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout', keyPath, '-out', certPath,
    ],
    { stdio: 'ignore' },
  );
  return { dir, certPath, keyPath };
}
