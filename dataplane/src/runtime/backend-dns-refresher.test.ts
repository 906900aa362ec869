import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '@spooky/config';
import { compileGeneration } from '../compile/compile-generation.ts';
import type { BackendTransport, UpstreamRequest, UpstreamResponse } from '../http/backend-transport.ts';
import { BackendDnsRefresher, backendHost, type DnsRefreshReport } from './backend-dns-refresher.ts';
import { LongLivedState } from './long-lived-state.ts';

/** A resolver answering from a mutable table; `null` = fail with ENOTFOUND; 'hang' = never settles. */
function tableResolver(table: Map<string, readonly string[] | null | 'hang'>) {
  const calls: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const resolve = (host: string): Promise<readonly string[]> => {
    calls.push(host);
    const answer = table.get(host);
    if (answer === 'hang') return new Promise(() => undefined);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    return new Promise((ok, fail) => {
      setImmediate(() => {
        inFlight--;
        if (answer === null || answer === undefined) fail(Object.assign(new Error('not found'), { code: 'ENOTFOUND' }));
        else ok(answer);
      });
    });
  };
  return { resolve, calls, maxInFlight: () => maxInFlight };
}

describe('backendHost', () => {
  it('takes the host of canonical backend addresses', () => {
    assert.equal(backendHost('http://localhost:8080'), 'localhost');
    assert.equal(backendHost('https://api.example.com:443'), 'api.example.com');
    assert.equal(backendHost('https://[::1]:8443'), '::1');
    assert.equal(backendHost('http://10.0.0.1:80'), '10.0.0.1');
  });
});

describe('BackendDnsRefresher', () => {
  it('baseline first, then only a changed set calls onChange; failures keep the last good set and report a state change once', async () => {
    const table = new Map<string, readonly string[] | null | 'hang'>([['a.test', ['10.0.0.1', '10.0.0.2']], ['b.test', ['10.0.1.1']]]);
    const r = tableResolver(table);
    const changed: string[] = [];
    const reports: DnsRefreshReport[] = [];
    const dns = new BackendDnsRefresher({ resolve: r.resolve, onChange: (h) => changed.push(h), report: (x) => reports.push(x) });
    try {
      dns.configure(true, 3_600_000, ['http://a.test:80', 'https://a.test:443', 'http://b.test:80', 'http://10.0.0.9:80', 'https://[::1]:443']);
      assert.deepEqual(dns.hosts().sort(), ['a.test', 'b.test'], 'IP literals are never resolved; one entry per name');

      await dns.refreshNow();
      assert.deepEqual(changed, [], 'the first answer is the baseline');
      assert.deepEqual(reports.map((x) => [x.host, x.result, x.stateChanged]).sort(), [['a.test', 'unchanged', false], ['b.test', 'unchanged', false]]);

      table.set('a.test', ['10.0.0.2', '10.0.0.1']);
      reports.length = 0;
      await dns.refreshNow();
      assert.deepEqual(changed, [], 'order does not matter');

      table.set('a.test', ['10.0.0.3']);
      await dns.refreshNow();
      assert.deepEqual(changed, ['a.test'], 'only the changed name');

      table.set('a.test', null);
      reports.length = 0;
      await dns.refreshNow();
      await dns.refreshNow();
      const failures = reports.filter((x) => x.host === 'a.test');
      assert.deepEqual(failures.map((x) => [x.result, x.error, x.stateChanged, x.addresses]), [
        ['failed', 'ENOTFOUND', true, ['10.0.0.3']],
        ['failed', 'ENOTFOUND', false, ['10.0.0.3']],
      ]);
      assert.deepEqual(changed, ['a.test'], 'a failure changes nothing');

      table.set('a.test', ['10.0.0.3']);
      reports.length = 0;
      await dns.refreshNow();
      assert.deepEqual(reports.filter((x) => x.host === 'a.test').map((x) => [x.result, x.stateChanged]), [['unchanged', true]], 'recovery is one state change');
      assert.deepEqual(changed, ['a.test'], 'the same set as the last good one: no re-creation');

      table.set('a.test', []);
      reports.length = 0;
      await dns.refreshNow();
      assert.equal(reports.find((x) => x.host === 'a.test')?.error, 'empty', 'an empty answer is a failure');

      dns.configure(true, 3_600_000, ['http://b.test:80']);
      assert.deepEqual(dns.hosts(), ['b.test'], 'names no longer used are forgotten');
      dns.configure(false, 3_600_000, []);
      assert.deepEqual(dns.hosts(), []);
    } finally {
      dns.close();
    }
  });

  it('bounds: a hanging lookup times out and is not asked again until it settles; at most 4 lookups at once', async () => {
    const table = new Map<string, readonly string[] | null | 'hang'>([['hang.test', 'hang']]);
    const addresses = ['http://hang.test:80'];
    for (let i = 0; i < 20; i++) {
      table.set(`n${i}.test`, [`10.1.0.${i}`]);
      addresses.push(`http://n${i}.test:80`);
    }
    const r = tableResolver(table);
    const reports: DnsRefreshReport[] = [];
    const dns = new BackendDnsRefresher({ resolve: r.resolve, onChange: () => undefined, report: (x) => reports.push(x), timeoutMs: 50 });
    try {
      dns.configure(true, 3_600_000, addresses);
      await dns.refreshNow();
      assert.deepEqual(reports.filter((x) => x.host === 'hang.test').map((x) => x.error), ['timeout']);
      assert.ok(r.maxInFlight() <= 4, `max in flight ${r.maxInFlight()}`);
      await dns.refreshNow();
      assert.equal(r.calls.filter((h) => h === 'hang.test').length, 1, 'one resolution in flight per name');
      assert.equal(reports.filter((x) => x.result === 'unchanged').length, 40);
    } finally {
      dns.close();
    }
  });

  it('runs rounds on its own timer', async () => {
    const r = tableResolver(new Map([['t.test', ['10.0.0.1']]]));
    let seen: () => void = () => undefined;
    const twoRounds = new Promise<void>((resolve) => {
      seen = resolve;
    });
    let n = 0;
    const dns = new BackendDnsRefresher({
      resolve: r.resolve,
      onChange: () => undefined,
      report: () => {
        if (++n === 2) seen();
      },
    });
    try {
      dns.configure(true, 20, ['http://t.test:80']);
      let bound: NodeJS.Timeout | undefined;
      await Promise.race([twoRounds, new Promise((_, fail) => { bound = setTimeout(() => fail(new Error('no two rounds within 10 s')), 10_000); })]);
      clearTimeout(bound);
    } finally {
      dns.close();
    }
  });
});

describe('BackendDnsRefresher baseline', () => {
  it('a new name is looked up at once (its baseline), not one interval later; a change right after is seen', async () => {
    const table = new Map<string, readonly string[] | null | 'hang'>([['n.test', ['10.0.0.1']]]);
    const r = tableResolver(table);
    const changed: string[] = [];
    const dns = new BackendDnsRefresher({ resolve: r.resolve, onChange: (h) => changed.push(h) });
    try {
      dns.configure(true, 3_600_000, ['http://n.test:80']);
      assert.deepEqual(r.calls, ['n.test'], 'looked up during configure, not after the hour-long interval');
      await dns.refreshNow(); // the baseline round, already running
      table.set('n.test', ['10.0.0.9']);
      await dns.refreshNow();
      assert.deepEqual(changed, ['n.test'], 'the change after the baseline re-creates the pools');
      dns.configure(true, 3_600_000, ['http://n.test:80']);
      assert.equal(r.calls.length, 2, 'a name already known is not looked up again by configure');
    } finally {
      dns.close();
    }
  });
});

describe('LongLivedState with DNS refresh', () => {
  it('a changed address set re-creates only the pools of that host; other pools stay', async () => {
    const table = new Map<string, readonly string[] | null | 'hang'>([['a.test', ['10.0.0.1']], ['b.test', ['10.0.0.2']]]);
    const r = tableResolver(table);
    const created: string[] = [];
    const closed: string[] = [];
    const state = new LongLivedState({
      createTransport: (address): BackendTransport => {
        created.push(address);
        return {
          protocol: 'h1',
          forward: () => Promise.resolve({ status: 204, headers: [] } as unknown as UpstreamResponse),
          close: async () => {
            closed.push(address);
          },
        };
      },
      dns: { resolve: r.resolve },
    });
    try {
      const parsed = parseConfig({
        listen: { tls: { cert: 'c', key: 'k' } },
        performance: { backend_dns_refresh_enabled: true, backend_dns_refresh_interval_ms: 3_600_000 },
        upstream: {
          one: { route: { path_prefix: '/1' }, backends: [{ id: 'a', address: 'http://a.test:80' }, { id: 'b', address: 'http://b.test:80' }] },
          two: { route: { path_prefix: '/2' }, backends: [{ id: 'a', address: 'http://a.test:80' }, { id: 'ip', address: 'http://127.0.0.1:80' }] },
        },
      });
      assert.ok(parsed.ok);
      const compiled = compileGeneration(parsed.config, { scope: 's', seq: 1, digest: 'd' }, state);
      assert.ok(compiled.ok);
      await state.retain(compiled.generation);
      assert.deepEqual(state.dns.hosts().sort(), ['a.test', 'b.test']);
      const request = {} as UpstreamRequest;
      for (const u of compiled.generation.upstreams.values()) for (const b of u.backends) await b.transport.forward(request);
      assert.equal(created.length, 4);

      await state.dns.refreshNow();
      assert.deepEqual(closed, [], 'baseline: nothing re-created');

      table.set('a.test', ['10.0.0.7']);
      await state.dns.refreshNow();
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(closed.sort(), ['http://a.test:80', 'http://a.test:80'], 'both a.test pools (one per upstream) closed, b.test and the IP untouched');
      for (const u of compiled.generation.upstreams.values()) for (const b of u.backends) await b.transport.forward(request);
      assert.deepEqual(created.slice(4).sort(), ['http://a.test:80', 'http://a.test:80'], 'fresh pools for a.test only');
    } finally {
      await state.close();
    }
  });

  it('off by default: no names, no timer', async () => {
    const state = new LongLivedState({ dns: { resolve: () => Promise.reject(new Error('must not resolve')) } });
    try {
      const parsed = parseConfig({ listen: { tls: { cert: 'c', key: 'k' } }, upstream: { one: { route: { path_prefix: '/' }, backends: [{ id: 'a', address: 'http://a.test:80' }] } } });
      assert.ok(parsed.ok);
      const compiled = compileGeneration(parsed.config, { scope: 's', seq: 1, digest: 'd' }, state);
      assert.ok(compiled.ok);
      await state.retain(compiled.generation);
      assert.deepEqual(state.dns.hosts(), []);
    } finally {
      await state.close();
    }
  });
});
