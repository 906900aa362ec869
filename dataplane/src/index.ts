/**
 * @spooky/dataplane public surface: what end-to-end tests and tools import. The process
 * itself starts from main.ts.
 */
export { type AdminDeps, type AdminServer, startAdminServer } from './admin/admin-server.ts';
export { createServingApplier, type ServingApplier, type ServingApplierDeps } from './apply/serving-applier.ts';
export { type FlagsResult, parseFlags, parseHostPort, type Settings, USAGE } from './bootstrap/flags.ts';
export { type LoadedConfig, loadConfigFile } from './bootstrap/load-config-file.ts';
export type { ApplyResult, GenerationApplier, GenerationRef, ServingSource } from './control/generation-applier.ts';
export type { ClientProtocol, Exchange, HeaderList, RequestHead, ResponseSink } from './http/exchange.ts';
export { type ListenerInfo, ListenerManager, type ListenerManagerOptions, type PrepareOutcome } from './ingress/listener-manager.ts';
export { type ExchangeHandler, type ListenerSpec, openServingListener, type ServingListener } from './ingress/serving-listener.ts';
export { startAccessLog } from './observability/access-log.ts';
export { createLogger, LOG_LEVELS, type LogLevel } from './observability/logger.ts';
export { type ApplyObserver, createMetrics, type DataPlaneMetrics } from './observability/metrics.ts';
export { publishRequestEnd, type RequestEndEvent, requestEndChannel } from './pipeline/events.ts';
