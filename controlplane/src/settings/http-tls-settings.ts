/**
 * Transport settings of the REST listener, part of the control plane's startup settings:
 *   --http-tls-cert FILE (SPOOKY_CP_HTTP_TLS_CERT) --http-tls-key FILE (SPOOKY_CP_HTTP_TLS_KEY):
 *       serve REST over HTTPS with this PEM chain and key (both or neither)
 *   --http-client-ca FILE (SPOOKY_CP_HTTP_CLIENT_CA): also require a client certificate signed
 *       by one of these CAs (mTLS adds to the bearer token, it never replaces it); needs TLS
 *   --allow-insecure-http (SPOOKY_CP_ALLOW_INSECURE_HTTP=1): plaintext REST on a non-loopback host
 * Plaintext REST is refused on any host but a loopback one (127.0.0.0/8, ::1, `localhost`):
 * bearer tokens would cross the network in clear. `0.0.0.0` and `::` are not loopback. Pure:
 * every refusal is settings_invalid with one line naming the flag (or the variable it came from)
 * and the flags to pass. The files are read later (api/http-tls.ts), so a missing file is
 * reported by the startup that loads it.
 */
import { isLoopbackHost } from '@spooky/plumbing';
import { CpError } from '../errors.ts';
import { type FlagValue, sourceName } from './cp-flag-env.ts';

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

/**
 * The REST transport for the `--http` host `httpHost`, from the flag values with their
 * SPOOKY_CP_* fallbacks already merged in (cp-flag-env.ts); `fromEnv` holds the flags whose value
 * came from a variable, so an error names that variable instead of the flag.
 */
export function parseHttpTransport(values: Readonly<Record<string, FlagValue>>, fromEnv: ReadonlySet<string>, httpHost: string): HttpTransportSettings {
  const text = (flag: string): string | null => {
    const v = values[flag];
    return typeof v === 'string' && v !== '' ? v : null;
  };
  const src = (flag: string): string => sourceName(flag, fromEnv);
  const certFile = text('http-tls-cert');
  const keyFile = text('http-tls-key');
  const clientCaFile = text('http-client-ca');
  const allowInsecureHttp = values['allow-insecure-http'] === true;
  if (certFile !== null && keyFile === null) throw invalid(`${src('http-tls-cert')} needs --http-tls-key FILE (or SPOOKY_CP_HTTP_TLS_KEY)`);
  if (keyFile !== null && certFile === null) throw invalid(`${src('http-tls-key')} needs --http-tls-cert FILE (or SPOOKY_CP_HTTP_TLS_CERT)`);
  if (certFile === null || keyFile === null) {
    if (clientCaFile !== null) throw invalid(`${src('http-client-ca')} needs --http-tls-cert FILE --http-tls-key FILE: client certificates are a TLS feature`);
    if (!allowInsecureHttp && !isLoopbackHost(httpHost)) {
      throw invalid(
        `${src('http')} host ${httpHost} is not loopback and REST would be plaintext (tokens in clear): pass --http-tls-cert FILE --http-tls-key FILE, or --allow-insecure-http to serve plaintext anyway`,
      );
    }
    return { httpTls: null, allowInsecureHttp };
  }
  return { httpTls: { certFile, keyFile, clientCaFile }, allowInsecureHttp };
}

function invalid(message: string): CpError {
  return new CpError('settings_invalid', message);
}
