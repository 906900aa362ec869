import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { canonicalJson, digest, parseConfig } from '@spooky/config';
import { CRASHED_CODE, MARKER_FILE, openApplyJournal } from '../cache/apply-journal.ts';
import type { GenerationRef } from '../control/generation-applier.ts';
import { ListenerManager } from '../ingress/listener-manager.ts';
import { GenerationStore } from '../runtime/generation-store.ts';
import { LongLivedState } from '../runtime/long-lived-state.ts';
import { capturedLogger } from '../testing/captured-logger.ts';
import { freeUdpTcpPort } from '../testing/free-port.ts';
import { makeSelfSignedCert } from '../testing/self-signed-cert.ts';
import { OVER_BUDGET_CODE } from './generation-budget.ts';
import { createServingApplier, type ServingApplierDeps } from './serving-applier.ts';

const cert = makeSelfSignedCert();

function configInput(port: number, certPath = cert.certPath): Record<string, unknown> {
  return {
    version: 1,
    listen: { address: '127.0.0.1', port, tls: { cert: certPath, key: cert.keyPath } },
    upstream: { app: { route: { path_prefix: '/' }, backends: [{ id: 'a', address: 'http://127.0.0.1:9' }] } },
  };
}

function payload(input: Record<string, unknown>): { bytes: Uint8Array; ref: GenerationRef } {
  const parsed = parseConfig(input);
  assert.ok(parsed.ok, JSON.stringify(parsed));
  return { bytes: Buffer.from(canonicalJson(parsed.config)), ref: { scope: 's', seq: 1, digest: digest(parsed.config) } };
}

function setup(extra: Pick<ServingApplierDeps, 'maxGenerationBytes' | 'journal'> = {}) {
  const { logger, lines } = capturedLogger('info');
  const store = new GenerationStore();
  const state = new LongLivedState();
  const listeners = new ListenerManager({ handler: async () => {}, logger });
  const applier = createServingApplier({ store, state, listeners, logger, ...extra });
  return { lines, store, state, listeners, applier, logger };
}

/** configInput with `n` more upstreams of 1000 backends each (no route). */
function largeInput(port: number, n: number): Record<string, unknown> {
  const input = configInput(port);
  const upstream = { ...(input['upstream'] as Record<string, unknown>) };
  for (let u = 0; u < n; u++) {
    upstream[`big${u}`] = { backends: Array.from({ length: 1000 }, (_, b) => ({ id: `b${b}`, address: `http://10.${u}.${b >> 8}.${b & 255}:80` })) };
  }
  return { ...input, upstream };
}

describe('serving applier', () => {
  let env: ReturnType<typeof setup>;
  afterEach(async () => {
    await env.listeners.closeAll(0);
    await env.state.close();
  });

  it('applies a generation: swap, listeners, one "generation applied" line', async () => {
    env = setup();
    const port = await freeUdpTcpPort();
    const { bytes, ref } = payload(configInput(port));
    assert.deepEqual(await env.applier.apply(bytes, ref, 'control-plane'), { ok: true });
    assert.deepEqual(env.applier.serving(), { ref, source: 'control-plane' });
    assert.deepEqual(env.store.current()?.ref, ref);
    assert.deepEqual(env.applier.listeners(), [{ address: '127.0.0.1', port }]);
    const applied = env.lines.filter((l) => l['msg'] === 'generation applied');
    assert.equal(applied.length, 1);
    assert.equal(applied[0]?.['seq'], 1);
    assert.equal(applied[0]?.['digest'], ref.digest);
    assert.equal(applied[0]?.['source'], 'control-plane');
    assert.deepEqual(applied[0]?.['listeners'], [{ address: '127.0.0.1', port }]);
  });

  it('warns once per applied generation when HTTPS backends are not verified (upstream_tls.verify_certificates: false)', async () => {
    env = setup();
    const port = await freeUdpTcpPort();
    const input = configInput(port);
    const { bytes, ref } = payload({
      ...input,
      upstream: { ...(input['upstream'] as Record<string, unknown>), tls_app: { backends: [{ id: 't', address: 'https://127.0.0.1:9443' }] } },
      upstream_tls: { verify_certificates: false },
    });
    assert.deepEqual(await env.applier.apply(bytes, ref, 'control-plane'), { ok: true });
    const warned = env.lines.filter((l) => String(l['msg']).startsWith('upstream TLS verification is off'));
    assert.equal(warned.length, 1);
    assert.deepEqual(warned[0]?.['upstreams'], ['tls_app'], 'only upstreams with an https backend are named');
    assert.equal(warned[0]?.['level'], 40);
    const plain = payload(configInput(port));
    assert.deepEqual(await env.applier.apply(plain.bytes, { ...plain.ref, seq: 2 }, 'control-plane'), { ok: true });
    assert.equal(env.lines.filter((l) => String(l['msg']).startsWith('upstream TLS verification is off')).length, 1, 'verification on: no warning');
  });

  it('warns for an upstream whose own tls turns verification off, not for one that turns it back on', async () => {
    env = setup();
    const port = await freeUdpTcpPort();
    const input = configInput(port);
    const https = (tls: Record<string, unknown>) => ({ backends: [{ id: 't', address: 'https://127.0.0.1:9443' }], tls });
    const { bytes, ref } = payload({
      ...input,
      upstream: {
        ...(input['upstream'] as Record<string, unknown>),
        off: { ...https({ verify_certificates: false }), route: { path_prefix: '/off' } },
        on: { ...https({ verify_certificates: true }), route: { path_prefix: '/on' } },
        inherits: { ...https({ server_name: 'origin.test' }), route: { path_prefix: '/inh' } },
      },
    });
    assert.deepEqual(await env.applier.apply(bytes, ref, 'control-plane'), { ok: true });
    const warned = env.lines.filter((l) => String(l['msg']).startsWith('upstream TLS verification is off'));
    assert.equal(warned.length, 1);
    assert.deepEqual(warned[0]?.['upstreams'], ['off']);
  });

  it('the same generation from the same source again is a no-op; from another source it re-applies', async () => {
    env = setup();
    const port = await freeUdpTcpPort();
    const { bytes, ref } = payload(configInput(port));
    assert.deepEqual(await env.applier.apply(bytes, ref, 'disk-cache'), { ok: true });
    const first = env.store.current();
    assert.deepEqual(await env.applier.apply(bytes, ref, 'disk-cache'), { ok: true });
    assert.equal(env.store.current(), first, 'no second swap');
    assert.equal(env.lines.filter((l) => l['msg'] === 'generation already serving').length, 1);
    assert.deepEqual(await env.applier.apply(bytes, ref, 'control-plane'), { ok: true });
    assert.notEqual(env.store.current(), first, 'the control plane confirming a cached generation re-applies it');
    assert.deepEqual(env.applier.serving(), { ref, source: 'control-plane' });
    assert.equal(env.lines.filter((l) => l['msg'] === 'generation applied').length, 2);
  });

  it('rejects bytes that are not JSON in phase parse', async () => {
    env = setup();
    const r = await env.applier.apply(Buffer.from('{nope'), { scope: 's', seq: 2, digest: 'sha256:x' }, 'control-plane');
    assert.equal(r.ok, false);
    if (!r.ok) assert.deepEqual([r.phase, r.retryable, r.issues[0]?.code], ['parse', false, 'config.syntax']);
    assert.equal(env.store.current(), null);
    assert.equal(env.lines.filter((l) => l['msg'] === 'generation rejected').length, 1);
  });

  it('rejects an invalid config in phase parse', async () => {
    env = setup();
    const r = await env.applier.apply(Buffer.from(JSON.stringify({ version: 1, bogus: true })), { scope: 's', seq: 2, digest: 'sha256:x' }, 'control-plane');
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.phase, 'parse');
  });

  it('changes nothing when a listener cannot be prepared (phase apply)', async () => {
    env = setup();
    const port = await freeUdpTcpPort();
    const first = payload(configInput(port));
    await env.applier.apply(first.bytes, first.ref, 'control-plane');
    const bad = payload(configInput(await freeUdpTcpPort(), '/missing/cert.pem'));
    const r = await env.applier.apply(bad.bytes, { ...bad.ref, seq: 2 }, 'control-plane');
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.equal(r.phase, 'apply');
      assert.equal(r.retryable, true);
      assert.deepEqual(r.issues.map((i) => [i.pointer, i.code]), [['/listeners/0/tls/cert', 'listener.tls.unreadable']]);
    }
    assert.deepEqual(env.applier.serving(), { ref: first.ref, source: 'control-plane' });
    assert.deepEqual(env.store.current()?.ref, first.ref);
    assert.deepEqual(env.applier.listeners(), [{ address: '127.0.0.1', port }]);
    const rejected = env.lines.filter((l) => l['msg'] === 'generation rejected');
    assert.equal(rejected.length, 1);
    assert.equal(rejected[0]?.['phase'], 'apply');
  });

  it('serializes concurrent applies in call order', async () => {
    env = setup();
    const port = await freeUdpTcpPort();
    const a = payload(configInput(port));
    const b = payload({ ...configInput(port), performance: { max_request_headers: 50 } });
    const order: number[] = [];
    await Promise.all([
      env.applier.apply(a.bytes, { ...a.ref, seq: 1 }, 'control-plane').then(() => order.push(1)),
      env.applier.apply(b.bytes, { ...b.ref, seq: 2 }, 'control-plane').then(() => order.push(2)),
    ]);
    assert.deepEqual(order, [1, 2]);
    assert.equal(env.applier.serving()?.ref.seq, 2);
    assert.deepEqual(env.applier.listeners(), [{ address: '127.0.0.1', port }]);
  });

  it('refuses a generation over its memory budget (phase compile, not retryable); the served one stays', async () => {
    env = setup({ maxGenerationBytes: 3 * 1048576 });
    const port = await freeUdpTcpPort();
    const small = payload(configInput(port));
    assert.deepEqual(await env.applier.apply(small.bytes, small.ref, 'control-plane'), { ok: true });
    const big = payload(largeInput(port, 2));
    const r = await env.applier.apply(big.bytes, { ...big.ref, seq: 2 }, 'control-plane');
    assert.ok(!r.ok);
    assert.deepEqual([r.phase, r.retryable, r.issues[0]?.code], ['compile', false, OVER_BUDGET_CODE]);
    assert.match(r.issues[0]?.message ?? '', /estimated [\d.]+ MiB .*2001 backends.*budget is 3 MiB/);
    assert.deepEqual(env.applier.serving(), { ref: small.ref, source: 'control-plane' });
    assert.equal(env.state.sizes().transports, 1, 'nothing of the refused generation was created');
    // Bytes alone over the budget: refused before JSON.parse (the bytes need not even be JSON).
    const junk = await env.applier.apply(Buffer.alloc(1048576, 0x20), { scope: 's', seq: 3, digest: 'sha256:j' }, 'control-plane');
    assert.ok(!junk.ok);
    assert.deepEqual([junk.phase, junk.issues[0]?.code], ['compile', OVER_BUDGET_CODE]);
    assert.match(junk.issues[0]?.message ?? '', /1048576 payload bytes/);
  });

  it('marks the apply in the journal while it runs; refuses what a previous process crashed on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spooky-journal-'));
    dirs.push(dir);
    const port = await freeUdpTcpPort();
    const good = payload(configInput(port));
    const poison = payload({ ...configInput(port), performance: { max_request_headers: 60 } });
    // A previous process died applying `poison` (seq 7) after it had refused sha256:older.
    const marker = { scope: 's', seq: 7, digest: poison.ref.digest, refused: ['sha256:older'], startedAt: new Date().toISOString() };
    writeFileSync(join(dir, MARKER_FILE), JSON.stringify(marker));
    const { logger } = capturedLogger('info');
    const opened = openApplyJournal(dir, logger);
    assert.deepEqual(opened.crashedOn, { scope: 's', seq: 7, digest: poison.ref.digest, startedAt: marker.startedAt });
    let seenDuringApply: unknown = null;
    const journal = {
      ...opened.journal,
      begin: async (ref: GenerationRef) => {
        await opened.journal.begin(ref);
        seenDuringApply = JSON.parse(readFileSync(join(dir, MARKER_FILE), 'utf8'));
      },
    };
    env = setup({ journal });
    const r = await env.applier.apply(poison.bytes, { ...poison.ref, seq: 7 }, 'control-plane');
    assert.ok(!r.ok);
    assert.deepEqual([r.phase, r.retryable, r.issues[0]?.code], ['compile', false, CRASHED_CODE]);
    assert.match(r.issues[0]?.message ?? '', /crashed while applying generation sha256:[0-9a-f]+ \(seq 7\)/);
    assert.equal(opened.journal.refusal({ scope: 's', seq: 1, digest: 'sha256:older' })?.code, CRASHED_CODE, 'refusals carry over');
    assert.equal(seenDuringApply, null, 'a refused generation is never marked');
    assert.ok(existsSync(join(dir, MARKER_FILE)), 'the old marker stays until an apply ends');

    assert.deepEqual(await env.applier.apply(good.bytes, good.ref, 'disk-cache'), { ok: true });
    const during = seenDuringApply as Record<string, unknown> | null;
    assert.equal(during?.['digest'], good.ref.digest);
    assert.deepEqual(during?.['refused'], ['sha256:older', poison.ref.digest]);
    assert.equal(existsSync(join(dir, MARKER_FILE)), false, 'removed once the apply ended');
    const bad = await env.applier.apply(Buffer.from('{nope'), { scope: 's', seq: 8, digest: 'sha256:bad' }, 'control-plane');
    assert.equal(bad.ok, false);
    assert.equal(existsSync(join(dir, MARKER_FILE)), false, 'removed after a rejection too');
    assert.equal(openApplyJournal(dir, logger).crashedOn, null);
  });
});

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
