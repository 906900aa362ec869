import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AdminDeps, startAdminServer } from './admin-server.ts';

type Serving = ReturnType<AdminDeps['applier']['serving']>;

async function ready(deps: { serving: Serving; draining?: boolean; health?: string | null }): Promise<{ status: number; body: string }> {
  const server = await startAdminServer('127.0.0.1', 0, {
    applier: { serving: () => deps.serving },
    workers: async () => ({ listeners: [], healthUnreadyReason: deps.health ?? null, workers: [] }),
    metrics: async () => ({ contentType: 'text/plain', text: '' }),
    draining: () => deps.draining ?? false,
  });
  try {
    const res = await fetch(`${server.url}/ready`);
    return { status: res.status, body: await res.text() };
  } finally {
    await server.close();
  }
}

const SERVING: Serving = { ref: { scope: 's', seq: 1, digest: 'sha256:x' }, source: 'control-plane' } as Serving;

describe('admin /ready', () => {
  it('503 while no generation is served', async () => {
    const r = await ready({ serving: null });
    assert.equal(r.status, 503);
    assert.match(r.body, /^not ready: no generation served/);
  });
  it('503 with the reason while every backend is unavailable', async () => {
    const r = await ready({ serving: SERVING, health: 'every backend is unavailable (3 of 3 unhealthy or ejected)' });
    assert.equal(r.status, 503);
    assert.equal(r.body, 'not ready: every backend is unavailable (3 of 3 unhealthy or ejected)\n');
  });
  it('503 while draining', async () => {
    assert.equal((await ready({ serving: SERVING, draining: true })).status, 503);
  });
  it('200 when serving with an available backend', async () => {
    assert.deepEqual(await ready({ serving: SERVING }), { status: 200, body: 'ready\n' });
  });
});
