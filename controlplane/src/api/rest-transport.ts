/**
 * The REST listener's transport, as main.ts wires it: plaintext HTTP, or HTTPS (and mTLS) with
 * the files of --http-tls-cert / --http-tls-key / --http-client-ca (loading and reload:
 * http-tls.ts).
 */
import type { TlsOptions, Server as TlsServer } from 'node:tls';
import { isLoopbackHost } from '@spooky/plumbing';
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../observability/logger.ts';
import type { Settings } from '../settings/settings.ts';
import { filesStamp, type HttpTlsWatch, httpsServerOptions, loadHttpTls, watchHttpTls } from './http-tls.ts';

export interface RestTransport {
  /** Scheme of the "control plane ready" URL. */
  readonly scheme: 'http' | 'https';
  /** buildApi's `https` options; null = plaintext. */
  readonly https: TlsOptions | null;
  /** Called once the API listens: logs what it serves and starts the certificate reload (stop it at shutdown). */
  watch(api: FastifyInstance, logger: Logger): HttpTlsWatch | undefined;
}

/**
 * The REST listener's transport from the settings: the TLS files are loaded here, before the
 * store opens or anything binds, so a bad file fails the start (exit 1). Plaintext on a
 * non-loopback host (only with --allow-insecure-http) is warned about once.
 */
export function loadRestTransport(settings: Pick<Settings, 'http' | 'httpTls'>): RestTransport {
  const files = settings.httpTls;
  if (files === null) {
    return {
      scheme: 'http',
      https: null,
      watch: (_api, logger) => {
        if (!isLoopbackHost(settings.http.host)) {
          logger.warn({ host: settings.http.host }, 'REST serves plaintext HTTP on a non-loopback address (--allow-insecure-http): tokens cross the network in clear');
        }
        return undefined;
      },
    };
  }
  const stamp = filesStamp(files);
  const material = loadHttpTls(files);
  return {
    scheme: 'https',
    https: httpsServerOptions(material, files),
    watch: (api, logger) => {
      const server = api.server as unknown as TlsServer;
      // A failed handshake (no or unaccepted client certificate, untrusted server certificate) is the client's problem: debug only.
      server.on('tlsClientError', (err: NodeJS.ErrnoException, socket) => {
        logger.debug({ code: err.code, source: socket.remoteAddress }, 'http tls handshake failed');
      });
      logger.info({ ...material.certificate, clientCertificates: files.clientCaFile !== null ? 'required' : 'none' }, 'http tls loaded');
      return watchHttpTls(server, files, stamp, logger);
    },
  };
}
