/**
 * The TLS material of one upstream's HTTPS backends, read when a generation is compiled:
 * its trusted CAs (its own `tls.ca_file` / `ca_dir`, else the global ones, trusted-cas.ts) and
 * its client certificate for upstream mTLS (`tls.cert` + `tls.key`).
 *
 * A client certificate must be readable PEM, the key an unencrypted PEM private key, and the
 * key must belong to the certificate; anything else is an issue at the field's pointer
 * (`tls.client_cert.unreadable`, `tls.client_key.unreadable`, `tls.client_key.mismatch`) and
 * the generation is NACKed. Messages name the reason and the certificate's path, never file
 * content, and never the key's path (a key path is a secret too, as for listener keys).
 *
 * `TlsMaterialReader` caches by path within one compile, so 1 000 upstreams sharing a CA
 * bundle or a client certificate read (and hold) it once.
 */
import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type Config, type ConfigIssue, escapePointer, upstreamTls } from '@spooky/config';
import type { ClientCertificate } from '../forwarding/backend-connector.ts';
import { trustedCas } from './trusted-cas.ts';

/** Bound on a certificate chain or key file (a wrong path such as a log file must not be slurped). */
export const MAX_IDENTITY_FILE_BYTES = 1024 * 1024;

export interface UpstreamTlsMaterial {
  readonly verifyCertificates: boolean;
  /** PEM text of the trusted CAs; null = system roots. */
  readonly ca: string | null;
  /** SNI and verification name; null = the backend host. */
  readonly serverName: string | null;
  readonly clientCert: ClientCertificate | null;
}

function errCode(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? ` (${code})` : '';
}

export class TlsMaterialReader {
  readonly #issues: ConfigIssue[];
  readonly #cas = new Map<string, string | null>();
  readonly #identities = new Map<string, ClientCertificate | null>();

  constructor(issues: ConfigIssue[]) {
    this.#issues = issues;
  }

  /** The material of upstream `name`; on a problem, issues are added and null fields returned. */
  forUpstream(config: Config, name: string): UpstreamTlsMaterial {
    const tls = upstreamTls(config, name);
    const caKey = JSON.stringify([tls.ca_pointer, tls.ca_file, tls.ca_dir]);
    let ca = this.#cas.get(caKey);
    if (ca === undefined) {
      ca = tls.ca_file === null && tls.ca_dir === null ? null : trustedCas(tls, this.#issues, tls.ca_pointer);
      this.#cas.set(caKey, ca);
    }
    let clientCert: ClientCertificate | null = null;
    if (tls.cert !== null && tls.key !== null) {
      const idKey = JSON.stringify([tls.cert, tls.key]);
      const known = this.#identities.get(idKey);
      clientCert = known === undefined ? this.#readIdentity(tls.cert, tls.key, `/upstream/${escapePointer(name)}/tls`) : known;
      this.#identities.set(idKey, clientCert);
    }
    return { verifyCertificates: tls.verify_certificates, ca, serverName: tls.server_name, clientCert };
  }

  #fail(pointer: string, code: string, message: string): null {
    this.#issues.push({ pointer, code, message });
    return null;
  }

  /** `label`: how messages name the file (its path for a certificate, "the key file" for a key). */
  #readPem(path: string, label: string, pointer: string, code: string, what: string): string | null {
    let text: string;
    try {
      const buf = readFileSync(path);
      if (buf.byteLength > MAX_IDENTITY_FILE_BYTES) return this.#fail(pointer, code, `${label} is over ${MAX_IDENTITY_FILE_BYTES} bytes; not a PEM ${what}`);
      text = buf.toString('utf8');
    } catch (err) {
      return this.#fail(pointer, code, `cannot read ${label}${errCode(err)}`);
    }
    return text;
  }

  #readIdentity(certPath: string, keyPath: string, base: string): ClientCertificate | null {
    const certText = this.#readPem(certPath, certPath, `${base}/cert`, 'tls.client_cert.unreadable', 'certificate');
    const keyText = this.#readPem(keyPath, 'the key file', `${base}/key`, 'tls.client_key.unreadable', 'private key');
    if (certText === null || keyText === null) return null;
    let leaf: X509Certificate;
    try {
      leaf = new X509Certificate(certText);
    } catch {
      return this.#fail(`${base}/cert`, 'tls.client_cert.unreadable', `${certPath} holds no PEM certificate`);
    }
    // PKCS#8 `ENCRYPTED PRIVATE KEY` or legacy `Proc-Type: 4,ENCRYPTED`: OpenSSL 3 reports them with a generic code.
    if (keyText.includes('ENCRYPTED')) {
      return this.#fail(`${base}/key`, 'tls.client_key.unreadable', 'the key file is encrypted (only unencrypted keys are supported)');
    }
    let key: KeyObject;
    try {
      key = createPrivateKey(keyText);
    } catch {
      return this.#fail(`${base}/key`, 'tls.client_key.unreadable', 'the key file holds no PEM private key');
    }
    if (!leaf.checkPrivateKey(key)) {
      return this.#fail(`${base}/key`, 'tls.client_key.mismatch', `the key file is not the private key of the certificate in ${certPath}`);
    }
    return { cert: certText, key: keyText };
  }
}
