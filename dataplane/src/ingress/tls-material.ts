/**
 * Pure check of a listener's certificate and key material before any socket is touched: the
 * certificate chain parses, the key parses, and the key belongs to the leaf certificate.
 * Issues name the field and the reason, never the material (and never OpenSSL's message text,
 * which can quote it): only OpenSSL's error code.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { ListenerIssue } from './listener-issues.ts';

/** null when cert and key are usable together; else one `listener.tls.invalid` issue. */
export function invalidTlsIssue(index: number, cert: Buffer, key: Buffer): ListenerIssue | null {
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch (err) {
    return issue(index, 'cert', `certificate is not a valid PEM/DER certificate (${codeOf(err)})`);
  }
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    return issue(index, 'key', `private key is not a valid unencrypted PEM/DER key (${codeOf(err)})`);
  }
  if (!leaf.checkPrivateKey(privateKey)) return issue(index, 'key', 'private key does not match the certificate');
  return null;
}

function issue(index: number, which: 'cert' | 'key', message: string): ListenerIssue {
  return { issue: { pointer: `/listeners/${index}/tls/${which}`, code: 'listener.tls.invalid', message }, retryable: false };
}

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'invalid';
}
