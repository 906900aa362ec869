/**
 * The serving applier's candidate half (docs/rollout.md §5): hold / promote / dropCandidate on a
 * real GenerationStore, LongLivedState and ListenerManager (real sockets on 127.0.0.1).
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { canonicalJson, digest, parseConfig } from '@spooky/config';
import { type GenerationRef, LISTENERS_DIFFER_CODE } from '../control/generation-applier.ts';
import { ListenerManager } from '../ingress/listener-manager.ts';
import type { CanaryAssignment } from '../rollout/in-node-canary.ts';
import { GenerationStore } from '../runtime/generation-store.ts';
import { LongLivedState } from '../runtime/long-lived-state.ts';
import { capturedLogger } from '../testing/captured-logger.ts';
import { freeUdpTcpPort } from '../testing/free-port.ts';
import { makeSelfSignedCert } from '../testing/self-signed-cert.ts';
import { createServingApplier } from './serving-applier.ts';

const cert = makeSelfSignedCert();

function input(port: number, backends: readonly string[]): Record<string, unknown> {
  return {
    version: 1,
    listen: { address: '127.0.0.1', port, tls: { cert: cert.certPath, key: cert.keyPath } },
    upstream: { app: { route: { path_prefix: '/' }, backends: backends.map((address, i) => ({ id: `b${i}`, address })) } },
  };
}

function gen(seq: number, config: Record<string, unknown>): { bytes: Uint8Array; ref: GenerationRef } {
  const parsed = parseConfig(config);
  assert.ok(parsed.ok, JSON.stringify(parsed));
  return { bytes: Buffer.from(canonicalJson(parsed.config)), ref: { scope: 's', seq, digest: digest(parsed.config) } };
}

const canary = (candidateDigest: string, percent = 5): CanaryAssignment => ({ candidateDigest, percent, crashWindowMs: 60_000 });

function setup() {
  const { logger, lines } = capturedLogger('info');
  const store = new GenerationStore();
  const state = new LongLivedState();
  const listeners = new ListenerManager({ handler: async () => {}, logger });
  const applier = createServingApplier({ store, state, listeners, logger });
  return { lines, store, state, listeners, applier };
}

describe('serving applier: candidates', () => {
  let env: ReturnType<typeof setup>;
  afterEach(async () => {
    await env.listeners.closeAll(0);
    await env.state.close();
  });

  it('holds a candidate beside the serving generation; pools of both are kept; drop keeps only the serving ones', async () => {
    env = setup();
    const port = await freeUdpTcpPort();
    const n = gen(1, input(port, ['http://127.0.0.1:9']));
    const c = gen(2, input(port, ['http://127.0.0.1:9', 'http://127.0.0.1:10']));
    assert.deepEqual(await env.applier.apply(n.bytes, n.ref, 'control-plane'), { ok: true });
    assert.equal(env.state.sizes().transports, 1);

    assert.deepEqual(await env.applier.hold(c.bytes, c.ref, canary(c.ref.digest, 5)), { ok: true });
    assert.deepEqual(env.store.current()?.ref, n.ref, 'the serving generation is unchanged');
    assert.deepEqual(env.store.candidate()?.generation.ref, c.ref);
    assert.equal(env.store.candidate()?.assignment.percent, 5);
    assert.deepEqual(env.applier.serving(), { ref: n.ref, source: 'control-plane', candidate: { ref: c.ref, percent: 5 } });
    assert.equal(env.state.sizes().transports, 2, "the candidate's new backend has its transport");
    assert.deepEqual(env.applier.listeners(), [{ address: '127.0.0.1', port }]);
    assert.equal(env.lines.filter((l) => l['msg'] === 'candidate held').length, 1);

    await env.applier.dropCandidate();
    assert.equal(env.store.candidate(), null);
    assert.deepEqual(env.store.current()?.ref, n.ref);
    assert.deepEqual(env.applier.serving(), { ref: n.ref, source: 'control-plane' });
    assert.equal(env.state.sizes().transports, 1);
    assert.equal(env.lines.filter((l) => l['msg'] === 'candidate dropped').length, 1);
  });

  it('promote serves the candidate fully (source control-plane) and keeps only its pools', async () => {
    env = setup();
    const port = await freeUdpTcpPort();
    const n = gen(1, input(port, ['http://127.0.0.1:9']));
    const c = gen(2, input(port, ['http://127.0.0.1:10']));
    await env.applier.apply(n.bytes, n.ref, 'disk-cache');
    assert.deepEqual(await env.applier.hold(c.bytes, c.ref, canary(c.ref.digest)), { ok: true });
    assert.deepEqual(await env.applier.promote(), { ok: true });
    assert.deepEqual(env.store.current()?.ref, c.ref);
    assert.equal(env.store.candidate(), null);
    assert.deepEqual(env.applier.serving(), { ref: c.ref, source: 'control-plane' });
    assert.equal(env.state.sizes().transports, 1);
    assert.deepEqual(env.applier.listeners(), [{ address: '127.0.0.1', port }], 'the same socket keeps serving');
    // Nothing left to promote.
    const again = await env.applier.promote();
    assert.equal(again.ok, false);
    assert.equal(!again.ok && again.issues[0]?.code, 'canary.no_candidate');
  });

  it('a SERVE apply drops a held candidate', async () => {
    env = setup();
    const port = await freeUdpTcpPort();
    const n = gen(1, input(port, ['http://127.0.0.1:9']));
    const c = gen(2, input(port, ['http://127.0.0.1:10']));
    const m = gen(3, input(port, ['http://127.0.0.1:11']));
    await env.applier.apply(n.bytes, n.ref, 'control-plane');
    await env.applier.hold(c.bytes, c.ref, canary(c.ref.digest));
    assert.deepEqual(await env.applier.apply(m.bytes, m.ref, 'control-plane'), { ok: true });
    assert.equal(env.store.candidate(), null);
    assert.deepEqual(env.applier.serving(), { ref: m.ref, source: 'control-plane' });
    assert.equal(env.state.sizes().transports, 1);
  });

  it('all-or-nothing: a candidate with other listeners, a bad one, or one without a serving generation changes nothing', async () => {
    env = setup();
    const port = await freeUdpTcpPort();
    const other = await freeUdpTcpPort();
    const n = gen(1, input(port, ['http://127.0.0.1:9']));
    const c = gen(2, input(port, ['http://127.0.0.1:10']));

    const early = await env.applier.hold(c.bytes, c.ref, canary(c.ref.digest));
    assert.equal(early.ok, false, 'no baseline yet');
    assert.equal(env.store.candidate(), null);

    await env.applier.apply(n.bytes, n.ref, 'control-plane');
    const moved = gen(3, input(other, ['http://127.0.0.1:9']));
    const refused = await env.applier.hold(moved.bytes, moved.ref, canary(moved.ref.digest));
    assert.equal(refused.ok, false);
    if (!refused.ok) {
      assert.equal(refused.phase, 'apply');
      assert.equal(refused.retryable, false);
      assert.equal(refused.issues[0]?.code, LISTENERS_DIFFER_CODE);
      assert.match(refused.issues[0]?.message ?? '', /canary\.percent: 0/);
    }
    const broken = { bytes: Buffer.from('{"version":1,'), ref: { scope: 's', seq: 4, digest: 'sha256:x' } };
    const bad = await env.applier.hold(broken.bytes, broken.ref, canary(broken.ref.digest));
    assert.equal(bad.ok, false);
    assert.equal(!bad.ok && bad.phase, 'parse');

    assert.equal(env.store.candidate(), null);
    assert.deepEqual(env.store.current()?.ref, n.ref);
    assert.deepEqual(env.applier.serving(), { ref: n.ref, source: 'control-plane' });
    assert.equal(env.state.sizes().transports, 1);
    assert.deepEqual(env.applier.listeners(), [{ address: '127.0.0.1', port }]);
  });
});
