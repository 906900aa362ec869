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
 * with one line naming the flag (or the variable it came from) and the flags to pass; the files
 * are read by the startup that loads them.
 */
import { isLoopbackHost } from '@spooky/plumbing';
import { CpError } from '../errors.ts';
import { envNameOf, type FlagValue, sourceName } from './cp-flag-env.ts';

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

const FILE_FLAGS = ['grpc-tls-cert', 'grpc-tls-key', 'grpc-client-ca'] as const;

/**
 * The gRPC transport for the `--grpc` host `grpcHost`, from the flag values with their
 * SPOOKY_CP_* fallbacks already merged in (cp-flag-env.ts); `fromEnv` holds the flags whose value
 * came from a variable, so an error names that variable instead of the flag.
 */
export function parseGrpcTransport(values: Readonly<Record<string, FlagValue>>, fromEnv: ReadonlySet<string>, grpcHost: string): GrpcTransportSettings {
  const given = FILE_FLAGS.map((flag) => {
    const v = values[flag];
    return { flag, value: typeof v === 'string' && v !== '' ? v : null };
  });
  const allowInsecureGrpc = values['allow-insecure-grpc'] === true;
  const missing = given.filter((g) => g.value === null);
  if (missing.length === 0) {
    const [cert, key, ca] = given.map((g) => g.value as string);
    return { grpcTls: { certFile: cert as string, keyFile: key as string, clientCaFile: ca as string }, allowInsecureGrpc };
  }
  if (missing.length < given.length) {
    const present = given.filter((g) => g.value !== null).map((g) => sourceName(g.flag, fromEnv));
    const needed = missing.map((g) => `--${g.flag} FILE (or ${envNameOf(g.flag)})`).join(' and ');
    throw invalid(`${present.join(' and ')} ${present.length === 1 ? 'needs' : 'need'} ${needed}: gRPC TLS is mutual (server certificate, key and node CA)`);
  }
  if (!allowInsecureGrpc && !isLoopbackHost(grpcHost)) {
    throw invalid(
      `${sourceName('grpc', fromEnv)} host ${grpcHost} is not loopback and gRPC would be plaintext (any process could pose as any node): pass --grpc-tls-cert FILE --grpc-tls-key FILE --grpc-client-ca FILE, or --allow-insecure-grpc to serve plaintext anyway`,
    );
  }
  return { grpcTls: null, allowInsecureGrpc };
}

function invalid(message: string): CpError {
  return new CpError('settings_invalid', message);
}
