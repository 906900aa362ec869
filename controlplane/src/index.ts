/** @spooky/controlplane: entry points for embedding the control plane (e2e tests, tools). */
export type { ApiDeps } from './api/api-deps.ts';
export { buildApi } from './api/build-api.ts';
export { hashToken, TokenAuthenticator } from './auth/token-authenticator.ts';
export { createToken, listTokens, revokeToken } from './auth/token-file.ts';
export { composeControlPlane } from './compose.ts';
export { ActiveService } from './generations/active-service.ts';
export { GenerationService } from './generations/generation-service.ts';
export { createLogger } from './observability/logger.ts';
export { createMetrics } from './observability/metrics.ts';
export { openStore, type SqliteStore } from './store/open-store.ts';
