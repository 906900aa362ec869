/**
 * Pure check of a listener's certificate and key material before any socket is touched: the
 * certificate chain parses, the key parses, and the key belongs to the leaf certificate.
 * Issues name the field and the reason, never the material (and never OpenSSL's message text,
 * which can quote it): only OpenSSL's error code.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { ListenerIssue } from './listener-issues.ts';

/**
 * null when cert and key are usable together; else one `listener.tls.invalid` issue at
 * `<base>/cert` or `<base>/key` (base default `/listeners/<index>/tls`; an SNI entry passes
 * `/listeners/<index>/tls/certificates/<j>`).
 */
export function invalidTlsIssue(index: number, cert: Buffer, key: Buffer, base = `/listeners/${index}/tls`): ListenerIssue | null {
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch (err) {
    return issue(base, 'cert', `certificate is not a valid PEM/DER certificate (${codeOf(err)})`);
  }
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    return issue(base, 'key', `private key is not a valid unencrypted PEM/DER key (${codeOf(err)})`);
  }
  if (!leaf.checkPrivateKey(privateKey)) return issue(base, 'key', 'private key does not match the certificate');
  return null;
}

/** null when `pem` holds at least one parsable certificate (a CA bundle); else an issue at `pointer`. */
export function invalidCaIssue(pem: Buffer, pointer: string): ListenerIssue | null {
  const first = pem.indexOf('-----BEGIN CERTIFICATE-----');
  const end = first < 0 ? -1 : pem.indexOf('-----END CERTIFICATE-----', first);
  try {
    if (end < 0) throw new Error('no certificate');
    new X509Certificate(pem.subarray(first, end + 25));
    return null;
  } catch (err) {
    return { issue: { pointer, code: 'listener.tls.invalid', message: `CA file holds no valid PEM certificate (${codeOf(err)})` }, retryable: false };
  }
}

function issue(base: string, which: 'cert' | 'key', message: string): ListenerIssue {
  return { issue: { pointer: `${base}/${which}`, code: 'listener.tls.invalid', message }, retryable: false };
}

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'invalid';
}
