/**
 * Pure: listener failures → ConfigIssues with stable codes. Messages name the certificate
 * file path and system error codes only: never certificate or key contents (library TLS
 * errors are trimmed at the first PEM marker), and never the private key's *path* (it says
 * where the secret lives; the message says "the key file of listener N" instead, and any
 * library text quoting the path has it replaced).
 *
 * Codes: `listener.tls.unreadable` (cert/key file missing or unreadable; retryable, the file
 * may appear), `listener.tls.invalid` (TLS rejected the PEM; not retryable),
 * `listener.bind_failed` (port busy, address not local, no permission; retryable).
 */
import type { ConfigIssue } from '@spooky/config';

export interface ListenerIssue {
  readonly issue: ConfigIssue;
  readonly retryable: boolean;
}

/** `base` defaults to `/listeners/<index>/tls`; `which` 'ca_file' sits under `<base>/client_auth`. */
export function unreadableIssue(index: number, which: 'cert' | 'key' | 'ca_file', path: string, err: unknown, base = `/listeners/${index}/tls`): ListenerIssue {
  const code = errorCode(err) ?? 'EIO';
  const what = which === 'key' ? `the key file of listener ${index}` : `${which === 'cert' ? 'cert' : 'CA'} file ${path}`;
  const pointer = which === 'ca_file' ? `${base}/client_auth/ca_file` : `${base}/${which}`;
  return {
    issue: { pointer, code: 'listener.tls.unreadable', message: `cannot read ${what}: ${code}` },
    retryable: true,
  };
}

/** Classifies an error thrown while opening a listener; `keyPath` is scrubbed from its text. */
export function openIssue(index: number, address: string, port: number, err: unknown, keyPath?: string): ListenerIssue {
  const code = errorCode(err);
  const text = scrub(safeMessage(err), keyPath, `the key file of listener ${index}`);
  if (code === 'ERR_HTTP3_TLS_CONFIG_ERROR' || (!code?.startsWith('E') && /tls|cert|key|pem|pkcs/i.test(text))) {
    return {
      issue: { pointer: `/listeners/${index}/tls/cert`, code: 'listener.tls.invalid', message: `certificate or key rejected: ${text}` },
      retryable: false,
    };
  }
  return {
    issue: { pointer: `/listeners/${index}/port`, code: 'listener.bind_failed', message: `cannot bind ${address}:${port}: ${code?.startsWith('E') ? code : text}` },
    retryable: true,
  };
}

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function safeMessage(err: unknown): string {
  const raw = err instanceof Error ? err.message : String(err);
  const cut = raw.indexOf('-----BEGIN');
  const text = (cut >= 0 ? raw.slice(0, cut) : raw).trim();
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

function scrub(text: string, secret: string | undefined, replacement: string): string {
  return secret ? text.split(secret).join(replacement) : text;
}
