/**
 * The ConfigSync gRPC server of the control plane. main.ts builds it with the store-backed
 * DistributionSource and NodeRecorder, then calls listen(); shutdown() on SIGTERM.
 *
 * Transport: with `tls` (--grpc-tls-*), mutual TLS: a client certificate from the node CA is
 * required in the handshake and each Hello must match its identity (node-identity.ts; refusals
 * are PERMISSION_DENIED, logged and counted in spooky_cp_node_auth_failures_total{reason});
 * the files are reloaded on change without dropping sessions (grpc-tls.ts). Without `tls`:
 * plaintext, no identity checks (settings allow it on loopback, or with --allow-insecure-grpc).
 *
 * Staged rollouts: with `assignments`, each session follows its node's assignment instead of
 * the active generation (node-desired-state.ts); `onAssignmentsChanged(scope, nodes)` makes
 * only those nodes' sessions decide again. Snapshots of assigned non-active generations are
 * kept per (scope, seq) while a session of the scope names them (generation-snapshots.ts).
 * With `health`, each Report's valid health windows go to it (health-windows.ts; malformed
 * ones are dropped and counted in spooky_cp_health_windows_dropped_total{reason}).
 */
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { MAX_MESSAGE_BYTES } from '@spooky/proto';
import type pino from 'pino';
import type { Registry } from 'prom-client';
import type { GrpcTlsFiles } from '../settings/grpc-tls-settings.ts';
import type { PushTracing } from '../tracing/control-plane-tracing.ts';
import { ConfigSyncSession, type SessionCall } from './config-sync-session.ts';
import { DesiredSnapshots } from './desired-snapshots.ts';
import { GenerationSnapshots } from './generation-snapshots.ts';
import { createGrpcTlsCredentials, type GrpcTlsCredentials } from './grpc-tls.ts';
import { healthDropCounter } from './health-windows.ts';
import { nodeAuthFailureCounter } from './node-auth-failures.ts';
import { ConfigSyncServerDefinition } from './outgoing-messages.ts';
import { NodeParking } from './parking.ts';
import type { DistributionSource, HealthSink, NodeAssignments, NodeRecorder } from './ports.ts';
import { PushCounters } from './push-counters.ts';
import { SessionRegistry } from './session-registry.ts';

/** How often data planes send a Report unless told otherwise. */
export const DEFAULT_REPORT_INTERVAL_MS = 10_000;
/** A push unanswered this long is abandoned; the next Report or activation may push again. */
export const DEFAULT_PUSH_TIMEOUT_MS = 30_000;
/** GoAway asks data planes to come back after about this long (± 25 % jitter). */
const GOAWAY_RECONNECT_MS = 1_000;
/** After GoAway, streams get this long to close before the server forces them. */
const SHUTDOWN_DEADLINE_MS = 2_000;

export interface DistributionServer {
  /** Binds host:port (port 0 = any free port) and resolves with the bound port. */
  listen(host: string, port: number): Promise<number>;
  /** GoAway on every stream, end them, then close the server (forced after a short deadline). */
  shutdown(): Promise<void>;
  /** Pushes this server sent to `nodeId` (all its streams), 0 if none. */
  pushesSent(nodeId: string): number;
  /** Pushes to `nodeId` abandoned for lack of an answer. */
  pushesAbandoned(nodeId: string): number;
  /** Desired-generation snapshots held in memory (scopes, bytes of their encoded pushes). */
  snapshotsHeld(): { readonly scopes: number; readonly bytes: number };
  /** Snapshots of assigned non-active generations held (a rollout's target), and their bytes. */
  generationSnapshotsHeld(): { readonly generations: number; readonly bytes: number };
}

export function createDistributionServer(opts: {
  source: DistributionSource;
  recorder: NodeRecorder;
  logger: pino.Logger;
  reportIntervalMs?: number;
  /** Default DEFAULT_PUSH_TIMEOUT_MS. */
  pushTimeoutMs?: number;
  /** When given, push counters are also exported there (spooky_cp_pushes_*_total{scope}). */
  metricsRegistry?: Registry;
  /** Called once per NACK recorded (observability/fleet-metrics.ts spooky_cp_nacks_total); absent = not counted. */
  onNack?: (scope: string, phase: string) => void;
  /** Mutual TLS with node identity; absent = plaintext without identity checks. */
  tls?: GrpcTlsFiles;
  /** How often the TLS files are polled for a change (default grpc-tls.ts RELOAD_POLL_MS). */
  tlsReloadPollMs?: number;
  /** Per-node assignments of a staged rollout (rollout/); absent = every node follows its scope's active generation. */
  assignments?: NodeAssignments;
  /** Receives each Report's per-generation health windows (rollout/); absent = they are dropped. */
  health?: HealthSink;
  /** Span export on: a span per push, ended by the node's Ack/Nack (tracing/); absent = no spans. */
  tracing?: PushTracing;
}): DistributionServer {
  const logger = opts.logger;
  const registry = new SessionRegistry<ConfigSyncSession>();
  /** Every open stream, identified or not (shutdown sends GoAway to all of them). */
  const live = new Set<ConfigSyncSession>();
  const parking = new NodeParking();
  /** One in-memory snapshot per scope with live sessions; dropped on every move of its pointer. */
  const snapshots = new DesiredSnapshots(opts.source);
  /** Assigned generations other than the active one, while a session of their scope names them. */
  const generations = new GenerationSnapshots(opts.source);
  const countHealthDropped = healthDropCounter(opts.metricsRegistry);
  /** Drops the generation snapshots of `scope` no session names any more. */
  const retainGenerations = (scope: string): void => {
    const needed = new Set<number>();
    for (const session of registry.inScope(scope)) {
      const seq = session.assignedSeq;
      if (seq !== null) needed.add(seq);
    }
    generations.retain(scope, needed);
  };
  const reportIntervalMs = opts.reportIntervalMs ?? DEFAULT_REPORT_INTERVAL_MS;
  const pushTimeoutMs = opts.pushTimeoutMs ?? DEFAULT_PUSH_TIMEOUT_MS;
  const counters = new PushCounters(opts.metricsRegistry);
  const countAuthRefused = nodeAuthFailureCounter(opts.metricsRegistry);
  /** Loaded at listen() (a bad file set fails the startup there). */
  let tls: GrpcTlsCredentials | null = null;
  let shuttingDown = false;
  const server = new Server({
    'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
  });

  server.addService(ConfigSyncServerDefinition, {
    session: (call: SessionCall) => {
      const session = new ConfigSyncSession(call, {
        snapshots,
        generations,
        ...(opts.assignments !== undefined ? { assignments: opts.assignments } : {}),
        ...(opts.health !== undefined ? { health: opts.health } : {}),
        ...(opts.tracing !== undefined ? { tracing: opts.tracing } : {}),
        onHealthDropped: countHealthDropped,
        recorder: opts.recorder,
        parking,
        logger,
        reportIntervalMs,
        pushTimeoutMs,
        requireNodeIdentity: opts.tls !== undefined,
        onAuthRefused: countAuthRefused,
        ...(opts.onNack !== undefined ? { onNack: opts.onNack } : {}),
        onPushSent: (s) => counters.sent(s.scope, s.nodeId),
        onPushAbandoned: (s) => counters.abandoned(s.scope, s.nodeId),
        onIdentified: (s) => registry.add(s)?.supersede(),
        onClosed: (s) => {
          live.delete(s);
          registry.remove(s);
          if (s.scope !== '' && registry.inScope(s.scope).length === 0) snapshots.evict(s.scope);
          if (s.scope !== '') retainGenerations(s.scope);
        },
      });
      live.add(session);
      if (shuttingDown) void session.goAway(jitteredReconnectMs(), 'control plane shutting down');
    },
  });

  const unsubscribeActive = snapshots.onActiveChanged((scope) => {
    for (const session of registry.inScope(scope)) session.evaluate();
    retainGenerations(scope);
  });
  const unsubscribeAssignments =
    opts.assignments?.onAssignmentsChanged((scope, nodes) => {
      for (const nodeId of new Set(nodes)) {
        const session = registry.ofNode(nodeId);
        if (session?.scope === scope) session.evaluate();
      }
      retainGenerations(scope);
    }) ?? (() => {});

  return {
    pushesSent: (nodeId) => counters.sentTo(nodeId),
    pushesAbandoned: (nodeId) => counters.abandonedFor(nodeId),
    snapshotsHeld: () => snapshots.held(),
    generationSnapshotsHeld: () => generations.held(),
    listen(host, port) {
      if (opts.tls !== undefined && tls === null) {
        tls = createGrpcTlsCredentials(opts.tls, logger, opts.tlsReloadPollMs);
      }
      const credentials = tls?.credentials ?? ServerCredentials.createInsecure();
      return new Promise((resolve, reject) => {
        server.bindAsync(`${host}:${port}`, credentials, (err, bound) => {
          if (err) return reject(err);
          if (tls !== null) logger.info({ host, port: bound, transport: 'mtls' }, 'distribution: ConfigSync listening (mutual TLS, node identity checked)');
          else logger.info({ host, port: bound, transport: 'plaintext' }, 'distribution: ConfigSync listening (plaintext, no node identity)');
          resolve(bound);
        });
      });
    },
    async shutdown() {
      if (shuttingDown) return;
      shuttingDown = true;
      tls?.stop();
      unsubscribeActive();
      unsubscribeAssignments();
      snapshots.close();
      generations.close();
      const sessions = [...live];
      await new Promise<void>((resolve) => {
        // One deadline for both steps: a node too slow to take its GoAway must not hold us up.
        const force = setTimeout(() => {
          logger.warn('distribution: streams still open after the deadline, forcing shutdown');
          server.forceShutdown();
          resolve();
        }, SHUTDOWN_DEADLINE_MS);
        void Promise.all(sessions.map((s) => s.goAway(jitteredReconnectMs(), 'control plane shutting down'))).then(
          () =>
            server.tryShutdown(() => {
              clearTimeout(force);
              resolve();
            }),
        );
      });
      logger.info({ sessions: sessions.length }, 'distribution: ConfigSync stopped');
    },
  };
}

function jitteredReconnectMs(): number {
  return Math.round(GOAWAY_RECONNECT_MS * (0.75 + Math.random() * 0.5));
}
