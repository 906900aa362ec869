/**
 * Transport settings of the ConfigSync gRPC listener, part of the control plane's startup settings:
 *   --grpc-tls-cert FILE (SPOOKY_CP_GRPC_TLS_CERT) --grpc-tls-key FILE (SPOOKY_CP_GRPC_TLS_KEY):
 *       serve gRPC over TLS with this PEM chain and key
 *   --grpc-client-ca FILE (SPOOKY_CP_GRPC_CLIENT_CA): the node CA; every data plane must present
 *       a client certificate it issued (mutual TLS is mandatory with TLS: the certificate is the
 *       node's identity, distribution/node-identity.ts)
 *   --allow-insecure-grpc (SPOOKY_CP_ALLOW_INSECURE_GRPC=1): plaintext gRPC on a non-loopback host
 * The three files are all given or none. Plaintext gRPC is refused on any host but a loopback one:
 * without TLS any process that reaches the port can pose as any node of any scope (identity
 * checks are skipped, there is no certificate to check). Pure: every refusal is settings_invalid
 * with one line naming the flag to pass; the files are read by the startup that loads them.
 */
import { CpError } from '../errors.ts';
import { isLoopbackHost } from './http-tls-settings.ts';

export interface GrpcTlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  /** The node CA: client certificates must chain to it. */
  readonly clientCaFile: string;
}

export interface GrpcTransportSettings {
  /** null = plaintext gRPC without node identity (loopback, or anywhere with allowInsecureGrpc). */
  readonly grpcTls: GrpcTlsFiles | null;
  readonly allowInsecureGrpc: boolean;
}

/** parseArgs options of these flags, spread into the control plane's option table. */
export const GRPC_TLS_OPTIONS = {
  'grpc-tls-cert': { type: 'string' },
  'grpc-tls-key': { type: 'string' },
  'grpc-client-ca': { type: 'string' },
  'allow-insecure-grpc': { type: 'boolean' },
} as const;

export const GRPC_TLS_USAGE = '[--grpc-tls-cert FILE --grpc-tls-key FILE --grpc-client-ca FILE] [--allow-insecure-grpc]';

const FLAGS = [
  ['grpc-tls-cert', 'SPOOKY_CP_GRPC_TLS_CERT'],
  ['grpc-tls-key', 'SPOOKY_CP_GRPC_TLS_KEY'],
  ['grpc-client-ca', 'SPOOKY_CP_GRPC_CLIENT_CA'],
] as const;

/**
 * The gRPC transport for the `--grpc` host `grpcHost`, from parsed flag values (strings and the
 * boolean) with env fallbacks.
 */
export function parseGrpcTransport(
  values: Readonly<Record<string, string | boolean | undefined>>,
  env: Readonly<Record<string, string | undefined>>,
  grpcHost: string,
): GrpcTransportSettings {
  const text = (flag: string, envName: string): string | null => {
    const v = values[flag];
    const chosen = typeof v === 'string' ? v : env[envName];
    return chosen === undefined || chosen === '' ? null : chosen;
  };
  const given = FLAGS.map(([flag, envName]) => ({ flag, envName, value: text(flag, envName) }));
  const allowInsecureGrpc = values['allow-insecure-grpc'] === true || envFlag(env['SPOOKY_CP_ALLOW_INSECURE_GRPC']);
  const missing = given.filter((g) => g.value === null);
  if (missing.length === 0) {
    const [cert, key, ca] = given.map((g) => g.value as string);
    return { grpcTls: { certFile: cert as string, keyFile: key as string, clientCaFile: ca as string }, allowInsecureGrpc };
  }
  if (missing.length < given.length) {
    const present = given.filter((g) => g.value !== null).map((g) => `--${g.flag}`);
    const needed = missing.map((g) => `--${g.flag} FILE (or ${g.envName})`).join(' and ');
    throw invalid(`${present.join(' and ')} ${present.length === 1 ? 'needs' : 'need'} ${needed}: gRPC TLS is mutual (server certificate, key and node CA)`);
  }
  if (!allowInsecureGrpc && !isLoopbackHost(grpcHost)) {
    throw invalid(
      `--grpc host ${grpcHost} is not loopback and gRPC would be plaintext (any process could pose as any node): pass --grpc-tls-cert FILE --grpc-tls-key FILE --grpc-client-ca FILE, or --allow-insecure-grpc to serve plaintext anyway`,
    );
  }
  return { grpcTls: null, allowInsecureGrpc };
}

function envFlag(value: string | undefined): boolean {
  if (value === undefined || value === '' || value === '0' || value === 'false') return false;
  if (value === '1' || value === 'true') return true;
  throw invalid(`SPOOKY_CP_ALLOW_INSECURE_GRPC must be 1, true, 0 or false (got ${JSON.stringify(value)})`);
}

function invalid(message: string): CpError {
  return new CpError('settings_invalid', message);
}
