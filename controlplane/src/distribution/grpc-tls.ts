/**
 * TLS of the ConfigSync listener: loading the server certificate, key and node CA given by
 * --grpc-tls-cert / --grpc-tls-key / --grpc-client-ca (settings/grpc-tls-settings.ts), the grpc-js
 * server credentials made from them, and their reload.
 *
 * Credentials: grpc-js `experimental.createCertificateProviderServerCredentials` with a client
 * certificate required and verified against the node CA in the handshake (an unknown issuer, an
 * expired certificate or none at all never reaches a handler; a certificate without any
 * identity does, and the session refuses it: node-identity.ts). The provider is ours, not
 * grpc-js's FileWatcherCertificateProvider: that one hands over whatever the files hold, so a
 * half-written or mismatched key would stop new handshakes; ours offers only checked sets.
 *
 * Reload: the files are stat'ed every RELOAD_POLL_MS (identity: device, inode, size, mtime);
 * after a change all three are read and checked again, and only a complete good set is given to
 * grpc-js, which calls `setSecureContext` on its HTTP/2 server: new handshakes use it, open
 * connections and their streams keep the session they negotiated. A bad set is logged once per
 * change and the old material keeps serving. Refusals name the flag and the cause, never key
 * material, never the key file's path.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { experimental, type ServerCredentials } from '@grpc/grpc-js';
import type pino from 'pino';
import { CpError } from '../errors.ts';
import type { GrpcTlsFiles } from '../settings/grpc-tls-settings.ts';

/** How often the files are stat'ed for a change. */
export const RELOAD_POLL_MS = 1000;

/** A checked set, and for logs the server certificate's public facts. */
export interface GrpcTlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer;
  readonly certificate: { readonly subject: string; readonly fingerprint256: string; readonly validTo: string };
}

/** Reads and checks the files; throws settings_invalid naming the flag (never key text or the key path). */
export function loadGrpcTls(files: GrpcTlsFiles): GrpcTlsMaterial {
  const cert = readPem(files.certFile, `--grpc-tls-cert ${files.certFile}`);
  const key = readPem(files.keyFile, '--grpc-tls-key');
  const ca = readPem(files.clientCaFile, `--grpc-client-ca ${files.clientCaFile}`);
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch {
    throw invalid(`--grpc-tls-cert ${files.certFile} holds no PEM certificate`);
  }
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw invalid('--grpc-tls-key holds no usable private key (PEM, unencrypted)');
  }
  if (!leaf.checkPrivateKey(privateKey)) throw invalid(`--grpc-tls-key does not match the certificate of --grpc-tls-cert ${files.certFile}`);
  try {
    new X509Certificate(ca);
  } catch {
    throw invalid(`--grpc-client-ca ${files.clientCaFile} holds no PEM certificate`);
  }
  try {
    createSecureContext({ cert, key, ca });
  } catch (err) {
    throw invalid(`the --grpc-tls-* files were refused by TLS (${(err as { code?: string }).code ?? 'error'})`);
  }
  return { cert, key, ca, certificate: { subject: leaf.subject.replaceAll('\n', ', '), fingerprint256: leaf.fingerprint256, validTo: leaf.validTo } };
}

export interface GrpcTlsCredentials {
  readonly credentials: ServerCredentials;
  /** Stops polling the files (the server keeps its last material). */
  stop(): void;
}

/**
 * Loads `files` now (throws settings_invalid if the set is bad; logs "grpc tls loaded" with the
 * certificate's subject, fingerprint and validTo) and returns mutual-TLS server credentials that
 * follow changes of the files (see the module comment). Logs "grpc tls reloaded" (same fields) or
 * a warning with the one-line reason.
 */
export function createGrpcTlsCredentials(files: GrpcTlsFiles, logger: pino.Logger, intervalMs = RELOAD_POLL_MS): GrpcTlsCredentials {
  let seen = filesStamp(files);
  let material = loadGrpcTls(files);
  logger.info({ ...material.certificate, clientCertificates: 'required' }, 'grpc tls loaded');
  const caListeners = new Set<experimental.CaCertificateUpdateListener>();
  const identityListeners = new Set<experimental.IdentityCertificateUpdateListener>();
  const offer = (): void => {
    for (const l of caListeners) l({ caCertificate: material.ca });
    for (const l of identityListeners) l({ certificate: material.cert, privateKey: material.key });
  };
  // grpc-js registers these listeners before the server's own watcher, so the first offer
  // must come after the current call stack (a synchronous one would reach no server).
  const provider: experimental.CertificateProvider = {
    addCaCertificateListener: (l) => {
      caListeners.add(l);
      queueMicrotask(() => caListeners.has(l) && l({ caCertificate: material.ca }));
    },
    removeCaCertificateListener: (l) => caListeners.delete(l),
    addIdentityCertificateListener: (l) => {
      identityListeners.add(l);
      queueMicrotask(() => identityListeners.has(l) && l({ certificate: material.cert, privateKey: material.key }));
    },
    removeIdentityCertificateListener: (l) => identityListeners.delete(l),
  };
  const timer = setInterval(() => {
    const now = filesStamp(files);
    if (now === seen) return;
    seen = now;
    try {
      material = loadGrpcTls(files);
      offer();
      logger.info({ ...material.certificate }, 'grpc tls reloaded: new handshakes use the new certificate and node CA');
    } catch (err) {
      logger.warn({ reason: (err as Error).message }, 'grpc tls reload refused; the previous certificate keeps serving');
    }
  }, intervalMs);
  timer.unref();
  return {
    credentials: experimental.createCertificateProviderServerCredentials(provider, provider, true),
    stop: () => clearInterval(timer),
  };
}

/** Identity of the files' current contents; a file that cannot be stat'ed counts as '-'. */
function filesStamp(files: GrpcTlsFiles): string {
  return [files.certFile, files.keyFile, files.clientCaFile]
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
