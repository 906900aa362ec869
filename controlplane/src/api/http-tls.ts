/**
 * TLS of the REST listener: loading the certificate, key and optional client CA given by
 * --http-tls-cert / --http-tls-key / --http-client-ca (settings/http-tls-settings.ts), the
 * fastify `https` options made from them, and their reload.
 *
 * Loading checks what a handshake would find too late: the certificate parses, the key is an
 * unencrypted private key matching it, the client CA file holds certificates. A refusal names
 * the flag and the cause, never key material, and never the key file's path (a secret, as the
 * data plane treats key paths). With a client CA, a client certificate is required and verified
 * in the handshake (`requestCert` + `rejectUnauthorized`); the bearer token is still required.
 *
 * Reload: the files are stat'ed every RELOAD_POLL_MS (identity: device, inode, size, mtime);
 * after a change all of them are read and checked again, and only a complete good set replaces
 * the server's secure context (`setSecureContext`), which affects new handshakes only: open
 * connections, keep-alive ones included, keep the session they negotiated. A bad set (half
 * written, a key not matching) is logged once per change and the old material keeps serving; it
 * is retried when a file changes again.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions, type TlsOptions, type Server as TlsServer } from 'node:tls';
import { CpError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { HttpTlsFiles } from '../settings/http-tls-settings.ts';

/** How often the files are stat'ed for a change. */
export const RELOAD_POLL_MS = 1000;

/** What was loaded: the secure-context options and, for logs, the certificate's public facts. */
export interface HttpTlsMaterial {
  readonly context: SecureContextOptions;
  readonly certificate: { readonly subject: string; readonly fingerprint256: string; readonly validTo: string };
}

/** Reads and checks the files; throws settings_invalid naming the flag (never key text or the key path). */
export function loadHttpTls(files: HttpTlsFiles): HttpTlsMaterial {
  const cert = readPem(files.certFile, `--http-tls-cert ${files.certFile}`);
  const key = readPem(files.keyFile, '--http-tls-key');
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch {
    throw invalid(`--http-tls-cert ${files.certFile} holds no PEM certificate`);
  }
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw invalid('--http-tls-key holds no usable private key (PEM, unencrypted)');
  }
  if (!leaf.checkPrivateKey(privateKey)) throw invalid(`--http-tls-key does not match the certificate of --http-tls-cert ${files.certFile}`);
  const context: SecureContextOptions = { cert, key };
  if (files.clientCaFile !== null) {
    const ca = readPem(files.clientCaFile, `--http-client-ca ${files.clientCaFile}`);
    try {
      new X509Certificate(ca);
    } catch {
      throw invalid(`--http-client-ca ${files.clientCaFile} holds no PEM certificate`);
    }
    context.ca = ca;
  }
  try {
    createSecureContext(context);
  } catch (err) {
    throw invalid(`the --http-tls-* files were refused by TLS (${(err as { code?: string }).code ?? 'error'})`);
  }
  return { context, certificate: { subject: leaf.subject.replaceAll('\n', ', '), fingerprint256: leaf.fingerprint256, validTo: leaf.validTo } };
}

/** fastify's `https` options for `material`: TLS ≥ 1.2, and with a client CA a required, verified client certificate. */
export function httpsServerOptions(material: HttpTlsMaterial, files: HttpTlsFiles): TlsOptions {
  const mtls = files.clientCaFile !== null;
  return { ...material.context, minVersion: 'TLSv1.2', requestCert: mtls, rejectUnauthorized: mtls };
}

export interface HttpTlsWatch {
  stop(): void;
}

/**
 * Polls the files and swaps `server`'s secure context after a change (see the module comment).
 * `stamp` is filesStamp(files) taken before the initial load, so a write racing that load is
 * seen as a change. Logs "http tls reloaded" (subject, fingerprint, validTo) or a warning with the
 * one-line reason.
 */
export function watchHttpTls(server: TlsServer, files: HttpTlsFiles, stamp: string, logger: Logger, intervalMs = RELOAD_POLL_MS): HttpTlsWatch {
  let seen = stamp;
  const timer = setInterval(() => {
    const now = filesStamp(files);
    if (now === seen) return;
    seen = now;
    try {
      const material = loadHttpTls(files);
      server.setSecureContext(material.context);
      logger.info({ ...material.certificate }, 'http tls reloaded: new handshakes use the new certificate');
    } catch (err) {
      logger.warn({ reason: (err as Error).message }, 'http tls reload refused; the previous certificate keeps serving');
    }
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/** Identity of the files' current contents; a file that cannot be stat'ed counts as '-'. */
export function filesStamp(files: HttpTlsFiles): string {
  return [files.certFile, files.keyFile, files.clientCaFile]
    .filter((f): f is string => f !== null)
    .map((f) => {
      try {
        const st = statSync(f, { bigint: true });
        return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;
      } catch {
        return '-';
      }
    })
    .join('|');
}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw invalid(`${what}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function invalid(message: string): CpError {
  return new CpError('settings_invalid', message);
}
