#!/usr/bin/env node
/**
 * Control-plane process: composition root. Opens the store, builds the use cases, starts the
 * REST API (HTTPS with --http-tls-*: api/rest-transport.ts) and the gRPC distribution server,
 * logs one "control plane ready" line with both addresses (a store that fails its integrity
 * check is logged and served degraded: reads only, /readyz 503; its rollouts are not resumed).
 * Live staged rollouts resume before serving (RolloutDriver.start). With --otlp-endpoint,
 * activations and pushes are traced (tracing/control-plane-tracing.ts). SIGTERM/SIGINT: rollout
 * timers stop, distribution shutdown (GoAway), close fastify, queued spans exported, close the DB,
 * exit 0. Any startup failure: one line on stderr, exit 1.
 */
import { isLoopbackHost } from '@spooky/plumbing';
import type { FastifyInstance } from 'fastify';
import { Gauge } from 'prom-client';
import { buildApi } from './api/build-api.ts';
import type { HttpTlsWatch } from './api/http-tls.ts';
import { loadRestTransport } from './api/rest-transport.ts';
import { TokenAuthenticator } from './auth/token-authenticator.ts';
import { composeControlPlane } from './compose.ts';
import { createDistributionServer } from './distribution/distribution-server.ts';
import { isCpError } from './errors.ts';
import { watchFleet } from './observability/fleet-metrics.ts';
import { createLogger, type Logger } from './observability/logger.ts';
import { createMetrics } from './observability/metrics.ts';
import { parseSettings } from './settings/settings.ts';
import { openStore, type SqliteStore } from './store/open-store.ts';
import { ControlPlaneTracing } from './tracing/control-plane-tracing.ts';

async function main(): Promise<void> {
  const settings = parseSettings(process.argv.slice(2), process.env);
  const logger = createLogger({ level: settings.logLevel });
  const rest = loadRestTransport(settings);
  const auth = TokenAuthenticator.fromFile(settings.tokensFile, {
    onReloadError: (err) =>
      logger.error({ code: isCpError(err) ? err.code : undefined, detail: (err as Error).message }, 'tokens file reload failed; previous tokens stay in force'),
  });
  const store = openStore(settings.dbPath);
  const health = store.health();
  if (!health.ok) {
    logger.error(
      { db: settings.dbPath, reason: health.reason },
      'store is damaged: /readyz answers 503, mutations 503; restore the database from a backup',
    );
  }
  let api: FastifyInstance | undefined;
  let distribution: ReturnType<typeof createDistributionServer> | undefined;
  let httpTlsWatch: HttpTlsWatch | undefined;
  let rolloutDriver: { stop(): void } | undefined;
  const tracing = settings.tracing === null ? undefined : new ControlPlaneTracing(settings.tracing, logger.child({ component: 'tracing' }));
  const stopAll = async (): Promise<void> => {
    httpTlsWatch?.stop();
    rolloutDriver?.stop();
    await stop(logger, distribution, api, store);
    await tracing?.close();
  };
  try {
    const metrics = createMetrics();
    const core = composeControlPlane(store, {
      reportIntervalMs: settings.reportIntervalMs,
      onListenerError: (err) => logger.error({ err }, 'active-changed listener failed'),
      rolloutLogger: logger.child({ component: 'rollout' }),
    });
    rolloutDriver = core.rolloutDriver;
    const driver = core.rolloutDriver;
    new Gauge({
      name: 'spooky_cp_rollout_driver_errors',
      help: 'Errors the rollout driver caught in its timers and effects since the process started (each is logged)',
      registers: [metrics.registry],
      collect() {
        this.set(driver.errors);
      },
    });
    const countNack = watchFleet(metrics.registry, core.api.fleet);
    // Before serving: live rollouts resume (restart) and effects a crash left pending are carried out.
    if (health.ok) core.rolloutDriver.start();
    api = buildApi({
      ...core.api,
      auth,
      metrics,
      storeHealth: () => store.health(),
      sseMaxSubscribers: settings.sseMaxSubscribers,
      onStoreCorruption: (err) => {
        if (store.markCorrupt(`database reported corruption: ${(err as Error).message}`)) {
          logger.error({ db: settings.dbPath }, 'store is damaged: /readyz answers 503, mutations 503 from now on');
        }
      },
      logger: logger.child({ component: 'api' }),
      ...(rest.https ? { https: rest.https } : {}),
      ...(tracing ? { tracing } : {}),
    });
    distribution = createDistributionServer({
      source: core.active,
      recorder: core.recorder,
      assignments: core.assignments,
      health: core.health,
      logger: logger.child({ component: 'distribution' }),
      reportIntervalMs: settings.reportIntervalMs,
      metricsRegistry: metrics.registry,
      onNack: countNack,
      ...(settings.grpcTls ? { tls: settings.grpcTls } : {}),
      ...(tracing ? { tracing } : {}),
    });
    await api.listen({ host: settings.http.host, port: settings.http.port, listenTextResolver: () => 'http listening' });
    const httpPort = portOf(api);
    httpTlsWatch = rest.watch(api, logger.child({ component: 'api' }));
    const grpcPort = await distribution.listen(settings.grpc.host, settings.grpc.port);
    if (settings.grpcTls === null && settings.allowInsecureGrpc && !isLoopbackHost(settings.grpc.host)) {
      logger.warn({ grpc: settings.grpc.host }, '--allow-insecure-grpc: ConfigSync is plaintext on a non-loopback address; any process that reaches it can pose as any node');
    }
    logger.info(
      { http: `${rest.scheme}://${hostForUrl(settings.http.host)}:${httpPort}`, grpc: `${hostForUrl(settings.grpc.host)}:${grpcPort}` },
      'control plane ready',
    );
  } catch (err) {
    await stopAll().catch(() => {});
    throw err;
  }
  const onSignal = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, 'control plane stopping');
    stopAll().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}

async function stop(
  logger: Logger,
  distribution: { shutdown(): Promise<void> } | undefined,
  api: FastifyInstance | undefined,
  store: SqliteStore,
): Promise<void> {
  try {
    await distribution?.shutdown();
  } catch (err) {
    logger.warn({ err }, 'distribution shutdown failed');
  }
  await api?.close();
  store.close();
}

function portOf(app: FastifyInstance): number {
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('http server has no TCP address');
  return address.port;
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

main().catch((err: unknown) => {
  const message = isCpError(err) ? err.message : err instanceof Error ? err.message : String(err);
  process.stderr.write(`spooky-controlplane: startup failed: ${message.split('\n')[0]}\n`);
  process.exit(1);
});
