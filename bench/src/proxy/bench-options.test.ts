import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ALL_TARGETS, cpuCount, parseBenchOptions, rotate } from './bench-options.ts';
import { splitEvenly } from './generator-pool.ts';

describe('bench options', () => {
  it('defaults: the full suite, pinned SUT on CPU 1 and load on CPU 0, one generator', () => {
    const o = parseBenchOptions([]);
    assert.equal(o.quick, false);
    assert.equal(o.rounds, 5);
    assert.deepEqual(o.targets, ALL_TARGETS);
    assert.equal(o.sutCpu, '1');
    assert.equal(o.loadCpu, '0');
    assert.equal(o.generators, 1);
    assert.equal(o.rate, 'auto');
  });

  it('--quick shrinks the run; flags override; lists keep the canonical order', () => {
    const q = parseBenchOptions(['--quick']);
    assert.ok(q.rounds * q.durationMs < parseBenchOptions([]).rounds * parseBenchOptions([]).durationMs);
    const o = parseBenchOptions(['--targets', 'spooky-h1,direct', '--rate', '1500', '--load-cpu', '0,2-3', '--no-pin']);
    assert.deepEqual(o.targets, ['direct', 'spooky-h1']);
    assert.equal(o.rate, 1500);
    assert.equal(o.sutCpu, null);
    // Opt-in targets follow the default ones, never in the default set.
    const tls = parseBenchOptions(['--targets', 'spooky-h2,spooky-h1tls,direct,spooky-h1']);
    assert.deepEqual(tls.targets, ['direct', 'spooky-h1', 'spooky-h2', 'spooky-h1tls']);
    assert.ok(!parseBenchOptions([]).targets.includes('spooky-h1tls'));
  });

  it('refuses unknown flags, unknown targets, a run without direct and bad numbers', () => {
    assert.throws(() => parseBenchOptions(['--bogus']));
    assert.throws(() => parseBenchOptions(['--targets', 'nginx']), /unknown nginx/);
    assert.throws(() => parseBenchOptions(['--targets', 'spooky-h1']), /must include direct/);
    assert.throws(() => parseBenchOptions(['--rounds', '1.5']), /whole number/);
    assert.throws(() => parseBenchOptions(['--rounds', '0']), /at least 1/);
  });

  it('spooky-h1-baseline needs --baseline naming a checkout with the data plane', () => {
    assert.throws(() => parseBenchOptions(['--targets', 'direct,spooky-h1-baseline']), /needs --baseline/);
    assert.throws(() => parseBenchOptions(['--targets', 'direct,spooky-h1-baseline', '--baseline', '/nonexistent']), /no dataplane\/src\/main\.ts/);
    const here = new URL('../../..', import.meta.url).pathname;
    const o = parseBenchOptions(['--targets', 'direct,spooky-h1,spooky-h1-baseline', '--baseline', here]);
    assert.deepEqual(o.targets, ['direct', 'spooky-h1', 'spooky-h1-baseline']);
    assert.equal(o.baseline, here);
    assert.equal(parseBenchOptions([]).baseline, null);
  });

  it('spooky-h1-b needs --b-node-options', () => {
    assert.throws(() => parseBenchOptions(['--targets', 'direct,spooky-h1-b']), /needs --b-node-options/);
    const o = parseBenchOptions(['--targets', 'direct,spooky-h1,spooky-h1-b', '--b-node-options=--max-semi-space-size=64']);
    assert.equal(o.bNodeOptions, '--max-semi-space-size=64');
    assert.deepEqual(o.targets, ['direct', 'spooky-h1', 'spooky-h1-b']);
  });

  it('rotate, cpuCount and splitEvenly', () => {
    assert.deepEqual(rotate([1, 2, 3], 1), [2, 3, 1]);
    assert.deepEqual(rotate([1, 2, 3], 4), [2, 3, 1]);
    assert.deepEqual(rotate([], 2), []);
    assert.equal(cpuCount('0'), 1);
    assert.equal(cpuCount('0,2-3'), 3);
    assert.throws(() => cpuCount('x'));
    assert.deepEqual(splitEvenly(16, 3), [6, 5, 5]);
    assert.deepEqual(splitEvenly(1, 3), [1, 0, 0]);
  });
});
