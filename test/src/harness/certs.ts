/** Self-signed certificates for tests and the demo, made with the system's openssl. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export interface CertFiles {
  readonly cert: string;
  readonly key: string;
}

/**
 * Writes `cert.pem` / `key.pem` (P-256, valid for localhost, 127.0.0.1 and ::1) into `dir`
 * unless they already exist. Returns their paths.
 */
export function ensureSelfSignedCert(dir: string, commonName = 'localhost'): CertFiles {
  mkdirSync(dir, { recursive: true });
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  if (existsSync(cert) && existsSync(key)) return { cert, key };
  execFileSync(
    'openssl',
    [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '30',
      '-subj', `/CN=${commonName}`, '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
      '-keyout', key, '-out', cert,
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}
