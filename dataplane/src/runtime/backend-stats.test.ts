import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseConfig } from '@spooky/config';
import { compileGeneration } from '../compile/compile-generation.ts';
import type { BackendTransport } from '../http/backend-transport.ts';
import { LongLivedState } from './long-lived-state.ts';

const fakeTransport = (): BackendTransport => ({ protocol: 'h1', forward: () => Promise.reject(new Error('unused')), close: async () => undefined });

function generation(state: LongLivedState, addresses: string[], type = 'least-connections') {
  const parsed = parseConfig({
    version: 1,
    listen: { address: '127.0.0.1', port: 9889, tls: { cert: 'c.pem', key: 'k.pem' } },
    upstream: {
      app: {
        route: { path_prefix: '/' },
        load_balancing: { type },
        backends: addresses.map((address, i) => ({ id: `b${i}`, address })),
      },
    },
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  const compiled = compileGeneration(parsed.config, null, state);
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.issues));
  return compiled.generation;
}

describe('backend stats in LongLivedState', () => {
  test('survive generation swaps while named, dropped by retain() when not', async () => {
    const state = new LongLivedState({ createTransport: fakeTransport });
    try {
      const g1 = generation(state, ['http://10.0.0.1:80', 'http://10.0.0.2:80']);
      await state.retain(g1);
      const a = state.backendStats('app', 'http://10.0.0.1:80');
      a.begin();
      a.recordHead(200, 25);
      const g2 = generation(state, ['http://10.0.0.1:80', 'http://10.0.0.3:80'], 'latency-aware');
      await state.retain(g2);
      assert.equal(state.backendStats('app', 'http://10.0.0.1:80'), a, 'same object across the swap');
      assert.equal(a.active, 1);
      const b = state.backendStats('app', 'http://10.0.0.2:80');
      assert.equal(b.active, 0, 'a backend no generation names starts over');
      assert.equal(b.sampled, false);
      await state.retain(g2);
      assert.notEqual(state.backendStats('app', 'http://10.0.0.2:80'), b, 'dropped again by retain()');
    } finally {
      await state.close();
    }
  });

  test('every LbType compiles', () => {
    const state = new LongLivedState({ createTransport: fakeTransport });
    for (const type of ['round-robin', 'random', 'least-connections', 'latency-aware', 'sticky-cid', 'consistent-hash']) {
      const g = generation(state, ['http://10.0.0.1:80'], type);
      assert.equal(g.upstreams.get('app')?.balancer.type, type);
    }
    return state.close();
  });
});
