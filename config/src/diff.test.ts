import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { canonicalJson } from './canonical.ts';
import { type Change, diff, diffDocuments } from './diff.ts';
import { parseConfig } from './parse-config.ts';
import { REDACTED, redactSecrets } from './redact-secrets.ts';
import type { Config } from './types.ts';

function config(input: unknown): Config {
  const r = parseConfig(input);
  assert.ok(r.ok, r.ok ? '' : JSON.stringify(r.issues));
  return r.config;
}

const tls = { cert: 'certs/cert.pem', key: 'certs/key.pem' };
const baseInput = {
  listeners: [
    { address: '127.0.0.1', port: 9889, tls },
    { address: '127.0.0.1', port: 9890, tls },
  ],
  upstream: {
    api: {
      route: { host: 'api.example', path_prefix: '/api' },
      backends: [
        { id: 'b1', address: 'http://127.0.0.1:8001' },
        { id: 'b2', address: 'http://127.0.0.1:8002', weight: 5 },
      ],
    },
    web: { route: { path_prefix: '/' }, backends: [{ id: 'w1', address: 'https://127.0.0.1:8443' }] },
  },
};
const base = config(baseInput);

// biome-ignore lint/suspicious/noExplicitAny: tests edit arbitrary fields of a plain input document
type Editable = any;

function edited(edit: (input: Editable) => void): Config {
  const input: Editable = structuredClone(baseInput);
  edit(input);
  return config(input);
}

const brief = (changes: Change[]) => changes.map((c) => `${c.entity} ${c.id} ${c.op} ${c.path}`);

describe('diff', () => {
  it('finds nothing between a config and itself', () => {
    assert.deepEqual(diff(base, base), []);
    assert.deepEqual(diff(null, null), []);
  });

  it('matches backends by id: reordering is no change, an address change is a change of that backend', () => {
    assert.deepEqual(
      diff(
        base,
        edited((i) => i.upstream.api.backends.reverse()),
      ),
      [],
    );
    const moved = edited((i) => {
      i.upstream.api.backends.reverse();
      i.upstream.api.backends[1].address = 'http://127.0.0.1:9001';
    });
    assert.deepEqual(diff(base, moved), [
      {
        entity: 'backend',
        id: 'api/b1',
        op: 'change',
        path: '/upstream/api/backends/1/address',
        before: 'http://127.0.0.1:8001',
        after: 'http://127.0.0.1:9001',
      },
    ]);
  });

  it('reports added and removed backends as whole entities', () => {
    const next = edited((i) => {
      i.upstream.api.backends = [i.upstream.api.backends[1], { id: 'b3', address: 'http://127.0.0.1:8003' }];
    });
    assert.deepEqual(diff(base, next), [
      { entity: 'backend', id: 'api/b1', op: 'remove', path: '/upstream/api/backends/0', before: { address: 'http://127.0.0.1:8001', id: 'b1', weight: 100 }, after: null },
      { entity: 'backend', id: 'api/b3', op: 'add', path: '/upstream/api/backends/1', before: null, after: { address: 'http://127.0.0.1:8003', id: 'b3', weight: 100 } },
    ]);
  });

  it('adds a backend health check as a field of that backend', () => {
    const next = edited((i) => {
      i.upstream.api.backends[0].health_check = { path: '/ready' };
    });
    const [change, ...rest] = diff(base, next);
    assert.equal(rest.length, 0);
    assert.equal(change?.entity, 'backend');
    assert.equal(change?.op, 'add');
    assert.equal(change?.path, '/upstream/api/backends/0/health_check');
    assert.equal((change!.after as { path: string }).path, '/ready');
  });

  it('keys listeners by address:port', () => {
    const next = edited((i) => {
      i.listeners.reverse();
      i.listeners[0].port = 9999;
      i.listeners[1].tls = { cert: 'other.pem', key: 'other-key.pem' };
    });
    assert.deepEqual(brief(diff(base, next)), [
      'listener 127.0.0.1:9889 change /listeners/1/tls/cert',
      'listener 127.0.0.1:9889 change /listeners/1/tls/key',
      'listener 127.0.0.1:9890 remove /listeners/1',
      'listener 127.0.0.1:9999 add /listeners/0',
    ]);
    const keyChange = diff(base, next)[1];
    assert.equal(keyChange?.before, REDACTED);
    assert.equal(keyChange?.after, REDACTED);
  });

  it('attributes route fields to the route, other upstream fields to the upstream', () => {
    const next = edited((i) => {
      i.upstream.api.route.path_prefix = '/api/v2';
      i.upstream.api.route.headers = [{ name: 'X-Canary', exact: '1' }];
      i.upstream.api.load_balancing = { type: 'random' };
      i.upstream.api.traffic_split = [{ upstream: 'web', weight: 10 }];
      i.upstream.web.mirror = { upstream: 'api', percent: 5 };
    });
    assert.deepEqual(diff(base, next), [
      { entity: 'upstream', id: 'api', op: 'change', path: '/upstream/api/load_balancing/type', before: 'round-robin', after: 'random' },
      { entity: 'upstream', id: 'api', op: 'change', path: '/upstream/api/traffic_split', before: [], after: [{ upstream: 'web', weight: 10 }] },
      { entity: 'upstream', id: 'web', op: 'add', path: '/upstream/web/mirror', before: null, after: { percent: 5, upstream: 'api' } },
      { entity: 'route', id: 'api', op: 'add', path: '/upstream/api/route/headers/0', before: null, after: { exact: '1', name: 'x-canary' } },
      { entity: 'route', id: 'api', op: 'change', path: '/upstream/api/route/path_prefix', before: '/api', after: '/api/v2' },
    ]);
  });

  it('matches route matchers by name: reordering them is no change', () => {
    const withMatchers = (order: 'ab' | 'ba', bValue: string) =>
      edited((i) => {
        const a = { name: 'x-a', present: true };
        const b = { name: 'x-b', prefix: bValue };
        i.upstream.api.route.headers = order === 'ab' ? [a, b] : [b, a];
      });
    assert.deepEqual(diff(withMatchers('ab', 'v'), withMatchers('ba', 'v')), []);
    assert.deepEqual(brief(diff(withMatchers('ab', 'v'), withMatchers('ba', 'w'))), ['route api change /upstream/api/route/headers/0/prefix']);
  });

  it('reports whole upstreams added or removed once, with their document', () => {
    const next = edited((i) => {
      delete i.upstream.web;
      i.upstream.img = { route: { path_prefix: '/img' }, backends: [{ id: 'i1', address: 'http://127.0.0.1:8100' }] };
    });
    const changes = diff(base, next);
    assert.deepEqual(brief(changes), ['upstream img add /upstream/img', 'upstream web remove /upstream/web']);
    assert.equal((changes[0]!.after as { backends: unknown[] }).backends.length, 1);
    assert.equal((changes[1]!.before as { route: { path_prefix: string } }).route.path_prefix, '/');
  });

  it('attributes top-level sections to policy or global, with add for fields that appear', () => {
    const next = config({
      ...baseInput,
      version: 1,
      performance: { upstream_connect_timeout_ms: 1000 },
      upstream_tls: { ca_file: '/etc/ca.pem' },
      log: { level: 'debug' },
    });
    assert.deepEqual(diff(base, next), [
      { entity: 'policy', id: 'performance', op: 'change', path: '/performance/upstream_connect_timeout_ms', before: 3000, after: 1000 },
      { entity: 'policy', id: 'upstream_tls', op: 'add', path: '/upstream_tls/ca_file', before: null, after: '/etc/ca.pem' },
      { entity: 'global', id: 'log', op: 'change', path: '/log/level', before: 'info', after: 'debug' },
    ]);
  });

  it('from nothing: every entity is one add', () => {
    assert.deepEqual(brief(diff(null, base)), [
      'listener 127.0.0.1:9889 add /listeners/0',
      'listener 127.0.0.1:9890 add /listeners/1',
      'upstream api add /upstream/api',
      'upstream web add /upstream/web',
      'policy forwarded_headers add /forwarded_headers',
      'policy load_balancing add /load_balancing',
      'policy performance add /performance',
      'policy resilience add /resilience',
      'policy tracing add /tracing',
      'policy upstream_tls add /upstream_tls',
      'global compat add /compat',
      'global log add /log',
      'global observability add /observability',
      'global version add /version',
    ]);
    assert.deepEqual(
      brief(diff(base, null)).map((s) => s.replace(' remove ', ' add ')),
      brief(diff(null, base)),
    );
  });

  it('is ordered by entity kind, then id', () => {
    const next = edited((i) => {
      i.log = { level: 'warn' };
      i.upstream.web.backends[0].weight = 7;
      i.upstream.api.route.method = 'GET';
      i.listeners[1].port = 9891;
      i.performance = { max_request_headers: 50 };
    });
    const entities = diff(base, next).map((c) => c.entity);
    assert.deepEqual(entities, ['listener', 'listener', 'route', 'backend', 'policy', 'global']);
  });
});

describe('diff redaction', () => {
  it('never outputs a secret-like value or PEM text, wherever it sits', () => {
    const secretKeys = fc.constantFrom('key', 'token', 'secret', 'password', 'api_key', 'bearer_token', 'client_secret', 'Session_Key');
    const keyName = fc.string({ minLength: 1, maxLength: 6 }).filter((k) => !/(^|_)(key|token|secret|password)$/i.test(k));
    const doc = fc.jsonValue({ maxDepth: 3 });
    fc.assert(
      fc.property(fc.uuid(), secretKeys, fc.array(keyName, { maxLength: 3 }), doc, fc.boolean(), (uuid, secretKey, nest, other, pem) => {
        const secret = pem ? `-----BEGIN PRIVATE KEY-----${uuid}` : `s3cr3t-${uuid}`;
        let planted: unknown = pem ? { [nest[0] ?? 'cert']: secret } : { [secretKey]: secret };
        for (const k of nest.slice(1)) planted = { [k]: planted };
        const a = { section: other };
        const b = { section: other, planted };
        const out = JSON.stringify([diffDocuments(a, b), diffDocuments(b, a), diffDocuments({ planted: 1 }, b)]);
        assert.ok(!out.includes(uuid), out);
      }),
    );
  });

  it('redacts secrets inside listeners and inline PEM in configs', () => {
    const secret = `SECRET-${Math.random().toString(36).slice(2)}`;
    const next = edited((i) => {
      i.listeners[0].tls = { cert: `-----BEGIN CERTIFICATE-----\n${secret}\n-----END CERTIFICATE-----`, key: `/keys/${secret}.pem` };
      i.listeners.push({ address: '::1', port: 443, tls: { cert: 'c.pem', key: secret } });
      i.upstream.api.load_balancing = { type: 'consistent-hash', key: 'header:x-user' };
    });
    for (const changes of [diff(base, next), diff(next, base), diff(null, next), diff(next, null)]) {
      assert.ok(changes.length > 0);
      assert.ok(!JSON.stringify(changes).includes(secret));
    }
    // A balancing key is a request-key spec, not a secret: a changed hash key must be visible.
    assert.ok(JSON.stringify(diff(base, next)).includes('header:x-user'));
  });

  it('redacts a private-key path even when it looks like a balancing key spec', () => {
    const next = edited((i) => {
      i.listeners[0].tls = { cert: 'c.pem', key: 'header:x-user' };
      i.listeners.push({ address: '::1', port: 443, tls: { cert: 'c.pem', key: 'path' } });
    });
    for (const changes of [diff(base, next), diff(null, next)]) {
      const text = JSON.stringify(changes);
      assert.ok(!text.includes('header:x-user') && !text.includes('"key":"path"'), text);
      assert.ok(text.includes(`"key":"${REDACTED}"`));
    }
  });
});

// ---- properties over generated valid configs ----

const names = ['a', 'b', 'c', 'd'];
const backendArb = fc.record({
  address: fc.constantFrom('http://127.0.0.1:1', 'http://127.0.0.1:2', 'https://10.0.0.1:443', 'http://[::1]:80'),
  weight: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
});
const upstreamArb = fc.record({
  host: fc.option(fc.constantFrom('a.example', '*.example', 'b.example'), { nil: undefined }),
  method: fc.option(fc.constantFrom('GET', 'POST'), { nil: undefined }),
  lb: fc.constantFrom('round-robin', 'random', 'least-connections'),
  backends: fc.uniqueArray(fc.tuple(fc.constantFrom('x', 'y', 'z'), backendArb), { minLength: 1, maxLength: 3, selector: ([id]) => id }),
});
const configArb = fc
  .record({
    ports: fc.uniqueArray(fc.integer({ min: 1000, max: 1003 }), { minLength: 1, maxLength: 2 }),
    upstreams: fc.dictionary(fc.constantFrom(...names), upstreamArb, { minKeys: 1, maxKeys: 3 }),
    timeout: fc.option(fc.constantFrom(1000, 2000), { nil: undefined }),
  })
  .map((g) => ({
    listeners: g.ports.map((port) => ({ address: '127.0.0.1', port, tls })),
    upstream: Object.fromEntries(
      Object.entries(g.upstreams).map(([name, u]) => [
        name,
        {
          route: { path_prefix: `/${name}`, ...(u.host ? { host: u.host } : {}), ...(u.method ? { method: u.method } : {}) },
          load_balancing: { type: u.lb },
          backends: dedupeAddresses(u.backends).map(([id, b]) => ({ id, address: b.address, ...(b.weight ? { weight: b.weight } : {}) })),
        },
      ]),
    ),
    ...(g.timeout ? { performance: { upstream_connect_timeout_ms: g.timeout } } : {}),
  }))
  .map(config);

function dedupeAddresses<T extends [string, { address: string }]>(list: T[]): T[] {
  const seen = new Set<string>();
  return list.filter(([, b]) => !seen.has(b.address) && seen.add(b.address) !== undefined);
}

/** The canonical document with backends sorted: what "no behavioural difference" means for the diff. */
function withSortedBackends(c: Config): string {
  const doc = JSON.parse(canonicalJson(c));
  for (const u of Object.values(doc.upstream) as { backends: { id: string }[] }[]) u.backends.sort((x, y) => (x.id < y.id ? -1 : 1));
  return JSON.stringify(doc);
}

function resolvePointer(doc: unknown, pointer: string): unknown {
  let at = doc;
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    assert.ok(at !== null && typeof at === 'object', `pointer ${pointer} leaves the document`);
    at = (at as Record<string, unknown>)[seg];
  }
  return at;
}

describe('diff properties', () => {
  it('a config against a reordered copy of itself: no change', () => {
    fc.assert(
      fc.property(configArb, (c) => {
        const shuffled = JSON.parse(canonicalJson(c));
        shuffled.listeners.reverse();
        for (const u of Object.values(shuffled.upstream) as { backends: unknown[] }[]) u.backends.reverse();
        assert.deepEqual(diff(c, config(shuffled)), []);
      }),
    );
  });

  it('is empty exactly when the canonical documents agree up to backend order; paths lead to the reported values', () => {
    fc.assert(
      fc.property(configArb, configArb, (a, b) => {
        const changes = diff(a, b);
        assert.equal(changes.length === 0, withSortedBackends(a) === withSortedBackends(b));
        const from = JSON.parse(canonicalJson(a));
        const to = JSON.parse(canonicalJson(b));
        for (const c of changes) {
          const [field = '', parent = ''] = c.path.split('/').filter((s) => !/^\d+$/.test(s)).reverse();
          if (c.op === 'remove') assert.deepEqual(redactSecrets(resolvePointer(from, c.path), field, parent), c.before, c.path);
          if (c.op !== 'remove') assert.deepEqual(redactSecrets(resolvePointer(to, c.path), field, parent), c.after, c.path);
        }
        assert.deepEqual(diff(a, b), changes, 'deterministic');
      }),
    );
  });
});
