/**
 * A throwaway PKI for TLS tests, made with the system's openssl: a CA, leaf certificates for
 * given SANs (DNS, IP, URI: node identities are `URI:spiffe://spooky/scope/<s>/node/<id>`),
 * signed by that CA or self-signed, and expired leaves (makeExpiredLeaf).
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

/**
 * A leaf signed by `ca` whose validity ended long ago (2020-01-01 → 2020-01-02), for "an expired
 * certificate is refused". OpenSSL 3.0's `x509 -req` cannot set past dates, so this uses
 * `openssl ca` with -startdate/-enddate and a throwaway CA database in `<dir>/<name>.ca-db`.
 */
export function makeExpiredLeaf(dir: string, name: string, cn: string, sans: string, ca: Pem): Pem {
  const db = join(dir, `${name}.ca-db`);
  mkdirSync(db, { recursive: true });
  writeFileSync(join(db, 'index.txt'), '');
  writeFileSync(join(db, 'serial'), '01\n');
  const config = join(db, 'ca.cnf');
  writeFileSync(
    config,
    [
      '[ca]', 'default_ca = d', '[d]', `database = ${join(db, 'index.txt')}`, `new_certs_dir = ${db}`, `serial = ${join(db, 'serial')}`,
      'default_md = sha256', 'policy = p', 'unique_subject = no', 'copy_extensions = none', '[p]', 'commonName = supplied', '',
    ].join('\n'),
  );
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, `subjectAltName=${sans}\n`);
  run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${cn}`, '-keyout', key, '-out', csr]);
  run(['ca', '-config', config, '-batch', '-notext', '-cert', ca.cert, '-keyfile', ca.key, '-in', csr, '-out', cert,
    '-startdate', '20200101000000Z', '-enddate', '20200102000000Z', '-extfile', ext]);
  return { cert, key };
}
