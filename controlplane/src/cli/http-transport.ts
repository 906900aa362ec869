/**
 * spookyctl's HTTP transport: node:http for `http://` servers, node:https for `https://` ones
 * with the TLS trust of the invocation (global fetch cannot take a CA or a client certificate
 * without undici's Agent, and spookyctl has no npm dependencies). One keep-alive agent per
 * run, so `--wait` polls reuse one connection; `close()` ends it.
 *
 * Trust: `--ca-file` replaces the system roots (like curl's --cacert); `--cert`/`--key` are
 * presented when the server asks for a client certificate. The files are read at the first
 * request (commands that never call the server never read them). A TLS failure becomes a
 * one-line CliError (exit 1) naming the cause and what to pass; see tlsError.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { CliError } from './cli-error.ts';
import { EXIT } from './exit-codes.ts';

/** Files of the TLS trust; null = not given (system roots, no client certificate). */
export interface TlsTrust {
  readonly caFile: string | null;
  readonly certFile: string | null;
  readonly keyFile: string | null;
}

export interface TransportAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

export interface TransportRequest {
  readonly method: string;
  /** Path and query, starting with `/`. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly timeoutMs: number;
}

export class HttpTransport {
  readonly #server: URL;
  readonly #trust: TlsTrust;
  #agent: HttpAgent | HttpsAgent | null = null;

  /** `server`: the base URL (http:// or https://, maybe with a path prefix). */
  constructor(server: string, trust: TlsTrust) {
    this.#server = new URL(server);
    this.#trust = trust;
  }

  get https(): boolean {
    return this.#server.protocol === 'https:';
  }

  /** Sends one request; rejects with a CliError (network, TLS, timeout). */
  send(req: TransportRequest): Promise<TransportAnswer> {
    const agent = this.#agentFor();
    const base = this.#server.pathname.replace(/\/+$/, '');
    const options = {
      agent,
      method: req.method,
      host: this.#server.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: this.#server.port === '' ? (this.https ? 443 : 80) : Number(this.#server.port),
      path: `${base}${req.path}`,
      headers: { ...req.headers, ...(req.body !== undefined ? { 'content-length': String(Buffer.byteLength(req.body)) } : {}) },
    };
    return new Promise((resolve, reject) => {
      let timedOut = false;
      /** A TLS handshake completed for this request (a new connection, not a reused one). */
      let handshook = false;
      const request = (this.https ? httpsRequest : httpRequest)(options, (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('error', (err) => fail(err));
        res.once('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: headersOf(res), text: Buffer.concat(chunks).toString('utf8') });
        });
      });
      const timer = setTimeout(() => {
        timedOut = true;
        request.destroy(new Error('timeout'));
      }, req.timeoutMs);
      const fail = (err: unknown): void => {
        clearTimeout(timer);
        if (timedOut) reject(this.#networkError(`no answer within ${req.timeoutMs / 1000}s`));
        else reject(this.https ? (tlsError(err, this.#server.origin, this.#trust, handshook) ?? this.#networkError(reasonOf(err))) : this.#networkError(reasonOf(err)));
      };
      request.once('socket', (socket) => {
        if (this.https && socket.connecting) socket.once('secureConnect', () => (handshook = true));
      });
      request.once('error', fail);
      request.end(req.body);
    });
  }

  /** Ends the keep-alive connections (call once the run is done). */
  close(): void {
    this.#agent?.destroy();
    this.#agent = null;
  }

  #networkError(reason: string): CliError {
    return new CliError('network', `cannot reach ${this.#server.origin}: ${reason}`, EXIT.error);
  }

  #agentFor(): HttpAgent | HttpsAgent {
    if (this.#agent) return this.#agent;
    this.#agent = this.https ? new HttpsAgent({ keepAlive: true, maxSockets: 4, ...loadTrust(this.#trust) }) : new HttpAgent({ keepAlive: true, maxSockets: 4 });
    return this.#agent;
  }
}

/** The agent's TLS options from the trust files; a usage-level CliError when a file is unusable. */
export function loadTrust(trust: TlsTrust): { ca?: Buffer; cert?: Buffer; key?: Buffer } {
  const out: { ca?: Buffer; cert?: Buffer; key?: Buffer } = {};
  if (trust.caFile !== null) {
    out.ca = readTrustFile(trust.caFile, `--ca-file ${trust.caFile}`);
    if (!isCertificate(out.ca)) throw filesError(`--ca-file ${trust.caFile} holds no PEM certificate`);
  }
  if (trust.certFile !== null && trust.keyFile !== null) {
    out.cert = readTrustFile(trust.certFile, `--cert ${trust.certFile}`);
    out.key = readTrustFile(trust.keyFile, '--key');
    if (!isCertificate(out.cert)) throw filesError(`--cert ${trust.certFile} holds no PEM certificate`);
    let matches = false;
    try {
      matches = new X509Certificate(out.cert).checkPrivateKey(createPrivateKey(out.key));
    } catch {
      throw filesError('--key holds no usable private key (PEM, unencrypted)');
    }
    if (!matches) throw filesError(`--key does not match the certificate of --cert ${trust.certFile}`);
  }
  return out;
}

/** Verification failures of the server's certificate chain (node / OpenSSL codes). */
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
]);
/** Alerts a server sends when it wants a client certificate or refuses the one given. */
const CLIENT_CERT_REFUSED = new Set([
  'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
  'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN',
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
  'ERR_SSL_TLSV1_ALERT_ACCESS_DENIED',
  'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED',
]);
/** What a client sees when the other end does not speak TLS at all. */
const NOT_TLS = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'ERR_SSL_HTTP_REQUEST']);

/**
 * The CliError for a TLS failure talking to `origin`, or null when `err` is not one. Codes:
 * tls_untrusted, tls_hostname, tls_expired, tls_client_cert, tls_not_tls, tls_handshake.
 * `handshook`: a handshake had just completed on this request's connection. A node server
 * that refuses a client certificate it cannot verify sends no alert: it closes the connection
 * right after the handshake, which the client sees as a reset before any answer.
 */
export function tlsError(err: unknown, origin: string, trust: TlsTrust, handshook = false): CliError | null {
  const code = (err as { code?: unknown })?.code;
  if (typeof code !== 'string') return null;
  const make = (c: string, message: string) => new CliError(c, `TLS: ${message}`, EXIT.error);
  if (handshook && trust.certFile !== null && (code === 'ECONNRESET' || code === 'EPIPE')) {
    return make('tls_client_cert', `${origin} closed the connection right after the handshake (${code}): it most likely does not accept the client certificate of --cert ${trust.certFile}`);
  }
  if (UNTRUSTED.has(code)) {
    return trust.caFile === null
      ? make('tls_untrusted', `certificate of ${origin} is not trusted (${code}); pass --ca-file FILE (or SPOOKY_CA_FILE) with the CA that signed it`)
      : make('tls_untrusted', `certificate of ${origin} is not signed by the CA in --ca-file ${trust.caFile} (${code})`);
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return make('tls_hostname', `certificate of ${origin} is not valid for ${new URL(origin).hostname} (${code}); use a --server name the certificate lists`);
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return make('tls_expired', `certificate of ${origin} is ${code === 'CERT_HAS_EXPIRED' ? 'expired' : 'not valid yet'} (${code})`);
  }
  if (CLIENT_CERT_REFUSED.has(code)) {
    return trust.certFile === null
      ? make('tls_client_cert', `${origin} refused the handshake (${code}): it requires a client certificate; pass --cert FILE --key FILE (or SPOOKY_CLIENT_CERT / SPOOKY_CLIENT_KEY)`)
      : make('tls_client_cert', `${origin} refused the handshake (${code}): it does not accept the client certificate of --cert ${trust.certFile}`);
  }
  // A record that is no TLS surfaces as EPROTO carrying OpenSSL's reason in the message.
  const reason = code === 'EPROTO' ? (/SSL routines:[^:]*:([^:]+):/.exec(String((err as { message?: unknown }).message))?.[1] ?? null) : null;
  if (NOT_TLS.has(code) || (reason !== null && /wrong version number|packet length too long|http request/.test(reason))) {
    return make('tls_not_tls', `${origin} does not answer TLS (${reason ?? code}); is it a plaintext http:// server?`);
  }
  if (reason !== null) return make('tls_handshake', `handshake with ${origin} failed (${reason})`);
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code.startsWith('ERR_OSSL_')) {
    return make('tls_handshake', `handshake with ${origin} failed (${code})`);
  }
  return null;
}

function headersOf(res: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  return headers;
}

function reasonOf(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  if (typeof e.code === 'string') return e.code;
  return typeof e.message === 'string' ? e.message : 'network error';
}

function readTrustFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw filesError(`${what}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function isCertificate(pem: Buffer): boolean {
  try {
    new X509Certificate(pem);
    return true;
  } catch {
    return false;
  }
}

function filesError(message: string): CliError {
  return new CliError('tls_files', message, EXIT.error);
}
