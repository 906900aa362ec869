import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { canonicalJson, digest, parseConfig } from '@spooky/config';
import type { GenerationRef } from '../control/generation-applier.ts';
import { ListenerManager } from '../ingress/listener-manager.ts';
import { GenerationStore } from '../runtime/generation-store.ts';
import { LongLivedState } from '../runtime/long-lived-state.ts';
import { capturedLogger } from '../testing/captured-logger.ts';
import { freeUdpTcpPort } from '../testing/free-port.ts';
import { makeSelfSignedCert } from '../testing/self-signed-cert.ts';
import { createServingApplier } from './serving-applier.ts';

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

function setup() {
  const { logger, lines } = capturedLogger('info');
  const store = new GenerationStore();
  const state = new LongLivedState();
  const listeners = new ListenerManager({ handler: async () => {}, logger });
  const applier = createServingApplier({ store, state, listeners, logger });
  return { lines, store, state, listeners, applier };
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
});
