/**
 * Transport settings of the REST listener, part of the control plane's startup settings:
 *   --http-tls-cert FILE (SPOOKY_CP_HTTP_TLS_CERT) --http-tls-key FILE (SPOOKY_CP_HTTP_TLS_KEY):
 *       serve REST over HTTPS with this PEM chain and key (both or neither)
 *   --http-client-ca FILE (SPOOKY_CP_HTTP_CLIENT_CA): also require a client certificate signed
 *       by one of these CAs (mTLS adds to the bearer token, it never replaces it); needs TLS
 *   --allow-insecure-http (SPOOKY_CP_ALLOW_INSECURE_HTTP=1): plaintext REST on a non-loopback host
 * Plaintext REST is refused on any host but a loopback one (127.0.0.0/8, ::1, `localhost`):
 * bearer tokens would cross the network in clear. `0.0.0.0` and `::` are not loopback. Pure:
 * every refusal is settings_invalid with one line naming the flag to pass. The files are read
 * later (api/http-tls.ts), so a missing file is reported by the startup that loads it.
 */
import { BlockList, isIP } from 'node:net';
import { CpError } from '../errors.ts';

export interface HttpTlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  /** CA bundle client certificates must chain to; null = no client certificate asked for. */
  readonly clientCaFile: string | null;
}

export interface HttpTransportSettings {
  /** null = plaintext HTTP (allowed on loopback, or anywhere with allowInsecureHttp). */
  readonly httpTls: HttpTlsFiles | null;
  readonly allowInsecureHttp: boolean;
}

/** parseArgs options of these flags, spread into the control plane's option table. */
export const HTTP_TLS_OPTIONS = {
  'http-tls-cert': { type: 'string' },
  'http-tls-key': { type: 'string' },
  'http-client-ca': { type: 'string' },
  'allow-insecure-http': { type: 'boolean' },
} as const;

export const HTTP_TLS_USAGE = '[--http-tls-cert FILE --http-tls-key FILE [--http-client-ca FILE]] [--allow-insecure-http]';

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** True for `localhost`, an IPv4 address in 127.0.0.0/8, `::1` (any spelling) or an IPv4-mapped 127.x. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.toLowerCase().replace(/\.$/, '');
  if (bare === 'localhost') return true;
  const family = isIP(bare);
  if (family === 4) return LOOPBACK.check(bare, 'ipv4');
  if (family === 6) return LOOPBACK.check(bare, 'ipv6');
  return false;
}

/**
 * The REST transport for the `--http` host `httpHost`, from parsed flag values (strings and the
 * boolean) with env fallbacks.
 */
export function parseHttpTransport(
  values: Readonly<Record<string, string | boolean | undefined>>,
  env: Readonly<Record<string, string | undefined>>,
  httpHost: string,
): HttpTransportSettings {
  const text = (flag: string, envName: string): string | null => {
    const v = values[flag];
    const chosen = typeof v === 'string' ? v : env[envName];
    return chosen === undefined || chosen === '' ? null : chosen;
  };
  const certFile = text('http-tls-cert', 'SPOOKY_CP_HTTP_TLS_CERT');
  const keyFile = text('http-tls-key', 'SPOOKY_CP_HTTP_TLS_KEY');
  const clientCaFile = text('http-client-ca', 'SPOOKY_CP_HTTP_CLIENT_CA');
  const allowInsecureHttp = values['allow-insecure-http'] === true || envFlag(env['SPOOKY_CP_ALLOW_INSECURE_HTTP']);
  if (certFile !== null && keyFile === null) throw invalid('--http-tls-cert needs --http-tls-key FILE (or SPOOKY_CP_HTTP_TLS_KEY)');
  if (keyFile !== null && certFile === null) throw invalid('--http-tls-key needs --http-tls-cert FILE (or SPOOKY_CP_HTTP_TLS_CERT)');
  if (certFile === null || keyFile === null) {
    if (clientCaFile !== null) throw invalid('--http-client-ca needs --http-tls-cert FILE --http-tls-key FILE: client certificates are a TLS feature');
    if (!allowInsecureHttp && !isLoopbackHost(httpHost)) {
      throw invalid(
        `--http host ${httpHost} is not loopback and REST would be plaintext (tokens in clear): pass --http-tls-cert FILE --http-tls-key FILE, or --allow-insecure-http to serve plaintext anyway`,
      );
    }
    return { httpTls: null, allowInsecureHttp };
  }
  return { httpTls: { certFile, keyFile, clientCaFile }, allowInsecureHttp };
}

function envFlag(value: string | undefined): boolean {
  if (value === undefined || value === '' || value === '0' || value === 'false') return false;
  if (value === '1' || value === 'true') return true;
  throw invalid(`SPOOKY_CP_ALLOW_INSECURE_HTTP must be 1, true, 0 or false (got ${JSON.stringify(value)})`);
}

function invalid(message: string): CpError {
  return new CpError('settings_invalid', message);
}
