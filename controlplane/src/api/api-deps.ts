/** What buildApi needs; wired in main.ts (or a test). */
import type { ActiveService } from '../generations/active-service.ts';
import type { GenerationService } from '../generations/generation-service.ts';
import type { NodeReader } from '../generations/ports.ts';
import type { Logger } from '../observability/logger.ts';
import type { CpMetrics } from '../observability/metrics.ts';
import type { Authenticator } from './guard.ts';

export interface ApiDeps {
  readonly generations: GenerationService;
  readonly active: ActiveService;
  readonly nodes: NodeReader;
  readonly auth: Authenticator;
  readonly metrics: CpMetrics;
  /** Readiness: store open and migrated. */
  readonly ready: () => boolean;
  /** Omitted → fastify logging off (tests). */
  readonly logger?: Logger;
}
