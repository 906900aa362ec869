/**
 * Transport of the data plane's ConfigSync session (control-plane mode):
 *   --ca-file FILE (SPOOKY_DP_CA_FILE)  CA bundle the control plane's gRPC certificate must chain to
 *   --cert FILE (SPOOKY_DP_CERT) --key FILE (SPOOKY_DP_KEY)  this node's client certificate and key,
 *       issued by the control plane's node CA; its SAN names the node's identity,
 *       `URI:spiffe://spooky/scope/<scope>/node/<node-id>` (the control plane refuses any other)
 *   --allow-insecure-grpc (SPOOKY_DP_ALLOW_INSECURE_GRPC=1): plaintext to a non-loopback address
 * The three files are all given or none (the control plane's TLS is always mutual). Without them
 * the session is plaintext, which is allowed only to a loopback --control-plane host: a node
 * would otherwise accept config from whoever answers on that address. The certificate is checked
 * against the --control-plane host name (or IP) as given. decideControlTls is pure; the files are
 * read by loadControlTls at startup (a failure stops the start), then again before every
 * connection attempt by controlTlsReader, so a renewed node certificate is used from the next
 * reconnect without a restart (a set that cannot be read or whose key does not match its
 * certificate is logged and the previous one is used). Refusals never show key text or the key's path.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isLoopbackHost } from '@spooky/plumbing';

export interface ControlTlsFiles {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

export interface ControlTlsMaterial {
  readonly ca: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
}

/** parseArgs options of these flags, spread into the data plane's option table. */
export const CONTROL_TLS_OPTIONS = {
  'ca-file': { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  'allow-insecure-grpc': { type: 'boolean' },
} as const;

export const CONTROL_TLS_USAGE = '[--ca-file FILE --cert FILE --key FILE] [--allow-insecure-grpc]';

export type ControlTlsDecision = { readonly ok: true; readonly tls: ControlTlsFiles | null } | { readonly ok: false; readonly error: string };

const FLAGS = [
  ['ca-file', 'SPOOKY_DP_CA_FILE'],
  ['cert', 'SPOOKY_DP_CERT'],
  ['key', 'SPOOKY_DP_KEY'],
] as const;

/**
 * TLS files for a session to `controlPlaneHost`, from parsed flag values with env fallbacks, or
 * an error naming what to pass.
 */
export function decideControlTls(
  values: Readonly<Record<string, unknown>>,
  env: Readonly<Record<string, string | undefined>>,
  controlPlaneHost: string,
): ControlTlsDecision {
  const given = FLAGS.map(([flag, envName]) => {
    const v = values[flag];
    const chosen = typeof v === 'string' ? v : env[envName];
    return { flag, envName, value: chosen === undefined || chosen === '' ? null : chosen };
  });
  const insecureEnv = env['SPOOKY_DP_ALLOW_INSECURE_GRPC'];
  if (insecureEnv !== undefined && !['', '0', '1', 'true', 'false'].includes(insecureEnv)) {
    return { ok: false, error: `SPOOKY_DP_ALLOW_INSECURE_GRPC must be 1, true, 0 or false (got ${JSON.stringify(insecureEnv)})` };
  }
  const allowInsecure = values['allow-insecure-grpc'] === true || insecureEnv === '1' || insecureEnv === 'true';
  const missing = given.filter((g) => g.value === null);
  if (missing.length === 0) {
    const [caFile, certFile, keyFile] = given.map((g) => g.value as string) as [string, string, string];
    return { ok: true, tls: { caFile, certFile, keyFile } };
  }
  if (missing.length < given.length) {
    const present = given.filter((g) => g.value !== null).map((g) => `--${g.flag}`);
    const needed = missing.map((g) => `--${g.flag} FILE (or ${g.envName})`).join(' and ');
    return { ok: false, error: `${present.join(' and ')} ${present.length === 1 ? 'needs' : 'need'} ${needed}: the control plane's TLS is mutual (its CA, this node's certificate and key)` };
  }
  if (!allowInsecure && !isLoopbackHost(controlPlaneHost)) {
    return {
      ok: false,
      error: `--control-plane host ${controlPlaneHost} is not loopback: pass --ca-file FILE (the control plane's CA) --cert FILE --key FILE (this node's certificate from the node CA, SAN URI spiffe://spooky/scope/<scope>/node/<node-id>), or --allow-insecure-grpc for plaintext`,
    };
  }
  return { ok: true, tls: null };
}

/** Reads the three files; throws an Error naming the flag (never the key's text or path). */
export function loadControlTls(files: ControlTlsFiles): ControlTlsMaterial {
  const read = (path: string, what: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(`${what}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  };
  const material = { ca: read(files.caFile, `--ca-file ${files.caFile}`), cert: read(files.certFile, `--cert ${files.certFile}`), key: read(files.keyFile, '--key') };
  let matches = false;
  try {
    matches = new X509Certificate(material.cert).checkPrivateKey(createPrivateKey(material.key));
  } catch {
    throw new Error(`--cert ${files.certFile} / --key: not a PEM certificate and an unencrypted PEM private key`);
  }
  if (!matches) throw new Error(`--key does not match the certificate of --cert ${files.certFile}`);
  return material;
}

/**
 * The material to dial with, read afresh on each call (once per connection attempt), starting
 * from `initial` (loadControlTls at startup). A read that fails keeps the previous material and
 * reports the reason through `onRefused` once per distinct reason.
 */
export function controlTlsReader(files: ControlTlsFiles, initial: ControlTlsMaterial, onRefused: (reason: string) => void): () => ControlTlsMaterial {
  let last = initial;
  let lastReason: string | null = null;
  return () => {
    try {
      last = loadControlTls(files);
      lastReason = null;
    } catch (err) {
      const reason = (err as Error).message;
      if (reason !== lastReason) onRefused(reason);
      lastReason = reason;
    }
    return last;
  };
}
