/**
 * Test wiring for in-process API tests: a real SQLite file in a temp dir, the real use cases
 * (compose.ts, as main.ts wires them), and three tokens: `admin-token` (admin, all scopes),
 * `reader-token` (config:read + fleet:read), `eu-token` (admin on scope prod-eu only).
 * `tokensFile` (a path) makes the kit authenticate against that file instead (reloaded on
 * change, like main.ts). `recorder` is what the gRPC server would be given. `rollouts` wires a
 * rollout service (tests pass a FakeRolloutControl); without it staged activation answers 501.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { hashToken, TokenAuthenticator } from '../auth/token-authenticator.ts';
import { composeControlPlane } from '../compose.ts';
import type { ActiveService } from '../generations/active-service.ts';
import type { FleetService } from '../generations/fleet-service.ts';
import type { LifecycleRecorder } from '../generations/lifecycle-recorder.ts';
import type { Logger } from '../observability/logger.ts';
import { createMetrics } from '../observability/metrics.ts';
import type { RolloutControl } from '../rollout/rollout-control.ts';
import { openStore, type SqliteStore } from '../store/open-store.ts';
import type { AuthThrottle } from './auth-throttle.ts';
import { buildApi } from './build-api.ts';

export const MINIMAL_YAML = readFileSync(new URL('../../../config/examples/minimal.yaml', import.meta.url), 'utf8');

export const KIT_TOKENS = [
  { name: 'admin', sha256: hashToken('admin-token'), permissions: ['admin'], scopes: ['*'] },
  { name: 'reader', sha256: hashToken('reader-token'), permissions: ['config:read', 'fleet:read'], scopes: ['*'] },
  { name: 'eu', sha256: hashToken('eu-token'), permissions: ['admin'], scopes: ['prod-eu'] },
];

export interface ApiKitOptions {
  /** Clock of the use cases, the fleet view and the token expiry; default real time. */
  readonly now?: () => Date;
  readonly reportIntervalMs?: number;
  readonly tokensFile?: string;
  readonly eventRetention?: number;
  readonly sseHeartbeatMs?: number;
  readonly authThrottle?: AuthThrottle;
  readonly sseMaxSubscribers?: number;
  /** Logger of the API (default: logging off). */
  readonly logger?: Logger;
  /** Directory of the database (reused across kits; the caller removes it). Default: a new temp dir, removed by close. */
  readonly dir?: string;
  /**
   * The rollout service behind PUT active strategy staged and /v1/rollouts: default the real one
   * composeControlPlane builds (its driver is not started: tests of a restart call start());
   * null: none (the 501 answers).
   */
  readonly rollouts?: RolloutControl | null;
}

export interface ApiKit {
  readonly app: FastifyInstance;
  readonly store: SqliteStore;
  readonly active: ActiveService;
  readonly recorder: LifecycleRecorder;
  readonly fleet: FleetService;
  /** The temp directory holding the database (removed by close). */
  readonly dir: string;
  close(): Promise<void>;
}

export function startApiKit(options: ApiKitOptions = {}): ApiKit {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'spooky-api-'));
  const store = openStore(join(dir, 'cp.db'), options.eventRetention === undefined ? {} : { eventRetention: options.eventRetention });
  const now = options.now ?? (() => new Date());
  const clock = { now };
  const core = composeControlPlane(store, { clock, reportIntervalMs: options.reportIntervalMs ?? 10_000 });
  const tokenOptions = { now: () => now().getTime() };
  const auth = options.tokensFile
    ? TokenAuthenticator.fromFile(options.tokensFile, tokenOptions)
    : TokenAuthenticator.fromJson(JSON.stringify({ tokens: KIT_TOKENS }), tokenOptions);
  const { rollouts: realRollouts, ...coreApi } = core.api;
  const rollouts = options.rollouts === undefined ? realRollouts : options.rollouts;
  const app = buildApi({
    ...coreApi,
    auth,
    metrics: createMetrics({ defaults: false }),
    storeHealth: () => store.health(),
    onStoreCorruption: (err) => store.markCorrupt((err as Error).message),
    ...(options.sseHeartbeatMs === undefined ? {} : { sseHeartbeatMs: options.sseHeartbeatMs }),
    ...(options.authThrottle ? { authThrottle: options.authThrottle } : {}),
    ...(options.sseMaxSubscribers === undefined ? {} : { sseMaxSubscribers: options.sseMaxSubscribers }),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(rollouts ? { rollouts } : {}),
  });
  return {
    app,
    store,
    active: core.active,
    recorder: core.recorder,
    fleet: core.fleet,
    dir,
    close: async () => {
      await app.close();
      store.close();
      if (options.dir === undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Headers of a mutating call by `token`. */
export function writeHeaders(token = 'admin-token', extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${token}`, 'spooky-change-reason': 'test change', ...extra };
}

/** Token of a pipeline that deploys but may not skip a staged rollout. */
const BASE = ['config:read', 'config:write', 'config:activate', 'config:rollback'];
/**
 * KIT_TOKENS plus `deployer-token` (read, write, activate, rollback), `releaser-token` (also
 * config:activate-immediate), `roller-token` (read + rollback), `policy-token` (read + rollout:policy).
 */
export const ROLLOUT_TOKENS = [
  ...KIT_TOKENS,
  { name: 'deployer', sha256: hashToken('deployer-token'), permissions: BASE, scopes: ['*'] },
  { name: 'releaser', sha256: hashToken('releaser-token'), permissions: [...BASE, 'config:activate-immediate'], scopes: ['*'] },
  { name: 'roller', sha256: hashToken('roller-token'), permissions: ['config:read', 'config:rollback'], scopes: ['*'] },
  { name: 'policy', sha256: hashToken('policy-token'), permissions: ['config:read', 'rollout:policy'], scopes: ['*'] },
];

/** A kit whose tokens file holds ROLLOUT_TOKENS, with `rollouts` wired, and seqs 1–3 created in `default`. */
export async function rolloutKit(dir: string, rollouts?: RolloutControl | null): Promise<ApiKit> {
  const tokensFile = join(dir, 'tokens.json');
  writeFileSync(tokensFile, JSON.stringify({ tokens: ROLLOUT_TOKENS }));
  const kit = startApiKit({ tokensFile, dir, ...(rollouts === undefined ? {} : { rollouts }) });
  for (const port of [7101, 7102, 7103]) {
    const res = await kit.app.inject({
      method: 'POST',
      url: '/v1/scopes/default/generations',
      headers: writeHeaders('admin-token', { 'content-type': 'application/yaml' }),
      body: MINIMAL_YAML.replace('port: 9889', `port: ${port}`),
    });
    assert.equal(res.statusCode, 201, res.body);
  }
  return kit;
}
