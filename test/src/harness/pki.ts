/**
 * A throwaway PKI for TLS tests, made with the system's openssl: a CA, leaf certificates for
 * given DNS names (server or client), signed by that CA or self-signed.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Pem {
  readonly cert: string;
  readonly key: string;
}

const run = (args: string[]): void => {
  execFileSync('openssl', args, { stdio: 'ignore' });
};

/** A self-signed CA in `<dir>/<name>.crt|.key`. */
export function makeCa(dir: string, name: string): Pem {
  mkdirSync(dir, { recursive: true });
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-keyout', key, '-out', cert]);
  return { cert, key };
}

/**
 * A leaf certificate with subject `/CN=<cn>` (plus `subject` RDNs when given, e.g. `/O=Acme`)
 * and SANs `sans` (`DNS:a.test,IP:127.0.0.1`), signed by `ca` or self-signed. Written to
 * temp names then renamed into place, as a certificate manager replaces files.
 */
export function makeLeaf(dir: string, name: string, cn: string, sans: string, ca?: Pem, subject = ''): Pem {
  mkdirSync(dir, { recursive: true });
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  const tmpCert = `${cert}.tmp`;
  const tmpKey = `${key}.tmp`;
  if (ca) {
    const csr = join(dir, `${name}.csr`);
    const ext = join(dir, `${name}.ext`);
    writeFileSync(ext, `subjectAltName=${sans}\n`);
    run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${cn}${subject}`, '-keyout', tmpKey, '-out', csr]);
    run(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-days', '2', '-extfile', ext, '-out', tmpCert]);
  } else {
    run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', `/CN=${cn}${subject}`,
      '-addext', `subjectAltName=${sans}`, '-keyout', tmpKey, '-out', tmpCert]);
  }
  renameSync(tmpKey, key);
  renameSync(tmpCert, cert);
  return { cert, key };
}
