/**
 * The data plane's families fed by `spooky:*` events other than a request's end (part of its
 * registry, metrics.ts): none of them is on the request path.
 *
 * - spooky_health_transitions_total{upstream,backend,to}  counter, `spooky:health:transition`
 * - spooky_backend_healthy{upstream,backend}              gauge, 1 while the backend takes traffic
 *                                                         (health/health-monitor.ts), removed when
 *                                                         untracked (`spooky:health:membership`)
 * - spooky_mirror_requests_total{route,mirror,outcome}    counter, mirroring/mirror-events.ts
 * - spooky_internal_errors_total{where}                   counter, crash-barrier reports
 *                                                         (barrier/internal-error.ts)
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { Counter, Gauge, type Registry } from 'prom-client';
import { INTERNAL_ERROR_CHANNEL, type InternalErrorEvent } from '../barrier/internal-error.ts';
import type { HealthMembershipEvent, HealthTransitionEvent } from '../health/health-events.ts';
import { MIRROR_CHANNEL, type MirrorEvent } from '../mirroring/mirror-events.ts';
import { CHANNELS } from '../telemetry/channel-names.ts';

/** Registers the families in `registry` and subscribes to their events; the returned function unsubscribes. */
export function registerEventFamilies(registry: Registry): () => void {
  const healthTransitions = new Counter({
    name: 'spooky_health_transitions_total',
    help: 'Backend health status changes, by upstream, backend id and new status.',
    labelNames: ['upstream', 'backend', 'to'] as const,
    registers: [registry],
  });
  const backendHealthy = new Gauge({
    name: 'spooky_backend_healthy',
    help: 'Whether a backend takes traffic (1) or is ejected by health checking (0).',
    labelNames: ['upstream', 'backend'] as const,
    // Across workers: 1 only while every worker's own health checks let it take traffic.
    aggregator: 'min',
    registers: [registry],
  });
  const onHealthTransition = (message: unknown): void => {
    const e = message as HealthTransitionEvent;
    healthTransitions.inc({ upstream: e.upstream, backend: e.backend, to: e.to });
    backendHealthy.set({ upstream: e.upstream, backend: e.backend }, e.available ? 1 : 0);
  };
  const onHealthMembership = (message: unknown): void => {
    const e = message as HealthMembershipEvent;
    const labels = { upstream: e.upstream, backend: e.backend };
    if (e.change === 'added') backendHealthy.set(labels, e.available ? 1 : 0);
    else backendHealthy.remove(labels);
  };
  subscribe(CHANNELS.healthTransition, onHealthTransition);
  subscribe(CHANNELS.healthMembership, onHealthMembership);

  const mirrors = new Counter({
    name: 'spooky_mirror_requests_total',
    help: 'Mirror decisions by outcome: ok, error:<code>, skipped:body|sampled|busy|no_backend.',
    labelNames: ['route', 'mirror', 'outcome'] as const,
    registers: [registry],
  });
  const onMirror = (message: unknown): void => {
    const e = message as MirrorEvent;
    mirrors.inc({ route: e.route, mirror: e.upstream, outcome: e.outcome });
  };
  subscribe(MIRROR_CHANNEL, onMirror);

  const internalErrors = new Counter({
    name: 'spooky_internal_errors_total',
    help: 'Errors contained by the crash barrier (bugs or library defects), by where they happened.',
    labelNames: ['where'] as const,
    registers: [registry],
  });
  const onInternalError = (message: unknown): void => {
    internalErrors.inc({ where: (message as InternalErrorEvent).where });
  };
  subscribe(INTERNAL_ERROR_CHANNEL, onInternalError);

  return () => {
    unsubscribe(CHANNELS.healthTransition, onHealthTransition);
    unsubscribe(CHANNELS.healthMembership, onHealthMembership);
    unsubscribe(MIRROR_CHANNEL, onMirror);
    unsubscribe(INTERNAL_ERROR_CHANNEL, onInternalError);
  };
}
