/** What buildApi needs; wired in compose.ts + main.ts (or the test kit). */
import type { TlsOptions } from 'node:tls';
import type { ActiveService } from '../generations/active-service.ts';
import type { FleetService } from '../generations/fleet-service.ts';
import type { GenerationService } from '../generations/generation-service.ts';
import type { EventLog } from '../generations/lifecycle-ports.ts';
import type { AuditReader, Clock } from '../generations/ports.ts';
import type { Logger } from '../observability/logger.ts';
import type { CpMetrics } from '../observability/metrics.ts';
import type { RolloutControl } from '../rollout/rollout-control.ts';
import type { RolloutPolicyService } from '../rollout/rollout-policy-service.ts';
import type { AuthThrottle } from './auth-throttle.ts';
import type { Authenticator } from './guard.ts';
import type { IdempotencyStore } from './idempotency.ts';
import type { ActivationTracing } from '../tracing/control-plane-tracing.ts';

export interface ApiDeps {
  readonly generations: GenerationService;
  readonly active: ActiveService;
  readonly fleet: FleetService;
  readonly audit: AuditReader;
  readonly events: EventLog;
  /** Per-scope rollout policies (GET/PUT /v1/scopes/{scope}/rollout-policy). */
  readonly rolloutPolicies: RolloutPolicyService;
  /** Staged rollouts (PUT …/active strategy staged, /v1/rollouts); absent = only immediate activation. */
  readonly rollouts?: RolloutControl;
  readonly idempotency: IdempotencyStore;
  readonly auth: Authenticator;
  /** Throttle of failed authentications; default DEFAULT_AUTH_LIMITS on the monotonic clock. */
  readonly authThrottle?: AuthThrottle;
  readonly metrics: CpMetrics;
  readonly clock: Clock;
  /**
   * Readiness: store open, migrated and intact. Not ok → /readyz 503 with the reason and every
   * mutating route 503 store_unavailable (reads are still tried).
   */
  readonly storeHealth: () => { readonly ok: true } | { readonly ok: false; readonly reason: string };
  /** Told when a statement of a request reported a damaged file (the store flips to not ok). */
  readonly onStoreCorruption?: (err: unknown) => void;
  /** Omitted → fastify logging off (tests). */
  readonly logger?: Logger;
  /** SSE heartbeat comment period on GET /v1/events; default 15 000 ms. */
  readonly sseHeartbeatMs?: number;
  /** Event streams open at once; default SSE_MAX_SUBSCRIBERS (1000). */
  readonly sseMaxSubscribers?: number;
  /** Serve HTTPS with these options (api/http-tls.ts httpsServerOptions); omitted → plaintext HTTP. */
  readonly https?: TlsOptions;
  /** Span export on: a span per activation / rollback (tracing/control-plane-tracing.ts); absent = none. */
  readonly tracing?: ActivationTracing;
}
