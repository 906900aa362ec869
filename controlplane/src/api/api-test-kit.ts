/**
 * Test wiring for in-process API tests: a real SQLite file in a temp dir, the real use cases,
 * and three tokens: `admin-token` (admin, all scopes), `reader-token` (config:read +
 * fleet:read), `eu-token` (admin on scope prod-eu only).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { hashToken, TokenAuthenticator } from '../auth/token-authenticator.ts';
import { ActiveService } from '../generations/active-service.ts';
import { GenerationService } from '../generations/generation-service.ts';
import { createMetrics } from '../observability/metrics.ts';
import { openStore, type SqliteStore } from '../store/open-store.ts';
import { buildApi } from './build-api.ts';

export const MINIMAL_YAML = readFileSync(new URL('../../../config/examples/minimal.yaml', import.meta.url), 'utf8');

export interface ApiKit {
  readonly app: FastifyInstance;
  readonly store: SqliteStore;
  readonly active: ActiveService;
  close(): Promise<void>;
}

export function startApiKit(): ApiKit {
  const dir = mkdtempSync(join(tmpdir(), 'spooky-api-'));
  const store = openStore(join(dir, 'cp.db'));
  const clock = { now: () => new Date() };
  const generations = new GenerationService({ repo: store.generations, audit: store.audit, clock });
  const active = new ActiveService({ repo: store.generations, audit: store.audit, clock });
  const auth = TokenAuthenticator.fromJson(
    JSON.stringify({
      tokens: [
        { name: 'admin', sha256: hashToken('admin-token'), permissions: ['admin'], scopes: ['*'] },
        { name: 'reader', sha256: hashToken('reader-token'), permissions: ['config:read', 'fleet:read'], scopes: ['*'] },
        { name: 'eu', sha256: hashToken('eu-token'), permissions: ['admin'], scopes: ['prod-eu'] },
      ],
    }),
  );
  const app = buildApi({
    generations,
    active,
    nodes: store.nodes,
    auth,
    metrics: createMetrics({ defaults: false }),
    ready: () => store.isReady(),
  });
  return {
    app,
    store,
    active,
    close: async () => {
      await app.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Headers of a mutating call by `token`. */
export function writeHeaders(token = 'admin-token', extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${token}`, 'spooky-change-reason': 'test change', ...extra };
}
