import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Config, parseConfig } from '@spooky/config';
import type { ClientProtocol, HeaderList } from '../http/exchange.ts';
import { compileForwardingPolicy, type ForwardingPolicy } from './forwarding-policy.ts';
import { upstreamRequestHeaders, withHost } from './upstream-request-headers.ts';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

function policy(extra: Record<string, unknown> = {}, upstream: Record<string, unknown> = {}): ForwardingPolicy {
  const r = parseConfig({
    listen: { tls: { cert: 'c', key: 'k' } },
    upstream: {
      api: {
        route: { path_prefix: '/' },
        backends: [
          { id: 'a', address: 'http://10.1.0.1:8080' },
          { id: 'b', address: 'https://[fd00::2]:443' },
        ],
        ...upstream,
      },
    },
    ...extra,
  });
  assert.deepEqual(r.ok ? [] : r.issues, []);
  return compileForwardingPolicy((r as { config: Config }).config, 'api');
}

const TRUSTING = { forwarded_headers: { trusted_proxies: ['10.0.0.0/8', 'fd00::/8'] } };

interface Req {
  headers?: HeaderList;
  peer?: string | null;
  protocol?: ClientProtocol;
  authority?: string | null;
}

function build(p: ForwardingPolicy, req: Req = {}) {
  return upstreamRequestHeaders(
    {
      head: { method: 'GET', scheme: 'https', authority: req.authority === undefined ? 'shop.example' : req.authority, path: '/x', headers: req.headers ?? [] },
      protocol: req.protocol ?? 'h3',
      remoteAddress: req.peer === undefined ? '203.0.113.7' : req.peer,
      requestId: 'rid-1',
    },
    p,
  );
}

/** Every value of `name`, joined as a recipient would join repeated fields. */
function get(headers: HeaderList, name: string): string | null {
  const values = headers.filter(([n]) => n === name).map(([, v]) => v);
  return values.length === 0 ? null : values.join(', ');
}

const INBOUND: HeaderList = [
  ['x-forwarded-for', '198.51.100.1, 10.0.0.9'],
  ['x-forwarded-proto', 'http'],
  ['x-forwarded-host', 'orig.example'],
  ['forwarded', 'for=198.51.100.1;proto=http, for=10.0.0.9'],
];

describe('upstreamRequestHeaders: forwarded headers', () => {
  it('overwrite (default): inbound claims dropped, ours set, Forwarded consistent with X-Forwarded-*', () => {
    const { headers } = build(policy(), { headers: [['accept', '*/*'], ...INBOUND, ['x-request-id', 'evil'], ['expect', '100-continue']] });
    assert.equal(get(headers, 'x-forwarded-for'), '203.0.113.7');
    assert.equal(get(headers, 'x-forwarded-proto'), 'https');
    assert.equal(get(headers, 'x-forwarded-host'), 'shop.example');
    assert.equal(get(headers, 'forwarded'), 'for=203.0.113.7;proto=https;host=shop.example');
    assert.equal(get(headers, 'x-request-id'), 'rid-1');
    assert.equal(get(headers, 'expect'), null);
    assert.equal(get(headers, 'accept'), '*/*');
  });

  it('append from a trusted peer: our hop appended to both chains; inbound proto/host kept', () => {
    const { headers } = build(policy({ forwarded_headers: { mode: 'append', trusted_proxies: ['10.0.0.0/8'] } }), { headers: INBOUND, peer: '10.0.0.10' });
    assert.equal(get(headers, 'x-forwarded-for'), '198.51.100.1, 10.0.0.9, 10.0.0.10');
    assert.equal(get(headers, 'forwarded'), 'for=198.51.100.1;proto=http, for=10.0.0.9, for=10.0.0.10;proto=https;host=shop.example');
    assert.equal(get(headers, 'x-forwarded-proto'), 'http');
    assert.equal(get(headers, 'x-forwarded-host'), 'orig.example');
  });

  it('append from an untrusted peer acts as overwrite', () => {
    const { headers } = build(policy({ forwarded_headers: { mode: 'append', trusted_proxies: ['10.0.0.0/8'] } }), { headers: INBOUND, peer: '11.0.0.1' });
    assert.equal(get(headers, 'x-forwarded-for'), '11.0.0.1');
    assert.equal(get(headers, 'forwarded'), 'for=11.0.0.1;proto=https;host=shop.example');
    assert.equal(get(headers, 'x-forwarded-proto'), 'https');
    assert.equal(get(headers, 'x-forwarded-host'), 'shop.example');
  });

  it('append derives the missing chain so XFF and Forwarded list the same hops', () => {
    const p = policy({ forwarded_headers: { mode: 'append', trusted_proxies: ['10.0.0.0/8'] } });
    const onlyXff = build(p, { headers: [['x-forwarded-for', '198.51.100.1'], ['x-forwarded-for', '2001:db8::1']], peer: '10.0.0.10' }).headers;
    assert.equal(get(onlyXff, 'x-forwarded-for'), '198.51.100.1, 2001:db8::1, 10.0.0.10');
    assert.equal(get(onlyXff, 'forwarded'), 'for=198.51.100.1, for="[2001:db8::1]", for=10.0.0.10;proto=https;host=shop.example');
    const onlyForwarded = build(p, { headers: [['forwarded', 'for="[2001:db8::1]:4711";proto=https, For=198.51.100.1:80;by=x, for=unknown']], peer: '10.0.0.10' }).headers;
    assert.equal(get(onlyForwarded, 'x-forwarded-for'), '2001:db8::1, 198.51.100.1, unknown, 10.0.0.10');
  });

  it('preserve from a trusted peer: inbound passed unchanged, nothing added; untrusted: overwrite', () => {
    const p = policy({ forwarded_headers: { mode: 'preserve', trusted_proxies: ['10.0.0.0/8'] } });
    const trusted = build(p, { headers: INBOUND, peer: '10.0.0.10' }).headers;
    for (const [name, value] of INBOUND) assert.equal(get(trusted, name), value, name);
    const none = build(p, { headers: [], peer: '10.0.0.10' }).headers;
    for (const name of ['forwarded', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host']) assert.equal(get(none, name), null, name);
    const untrusted = build(p, { headers: INBOUND, peer: '192.0.2.1' }).headers;
    assert.equal(get(untrusted, 'x-forwarded-for'), '192.0.2.1');
    assert.equal(get(untrusted, 'forwarded'), 'for=192.0.2.1;proto=https;host=shop.example');
  });

  it('IPv6 peers: quoted bracketed for= node; IPv6 CIDRs trusted; IPv4-mapped peers unmapped and matched as IPv4', () => {
    const over = build(policy(), { peer: '2001:db8::7', authority: '[2001:db8::1]:9889' }).headers;
    assert.equal(get(over, 'x-forwarded-for'), '2001:db8::7');
    assert.equal(get(over, 'forwarded'), 'for="[2001:db8::7]";proto=https;host="[2001:db8::1]:9889"');
    const p = policy({ forwarded_headers: { mode: 'append', ...TRUSTING.forwarded_headers } });
    assert.equal(get(build(p, { headers: [['x-forwarded-for', '1.1.1.1']], peer: 'fd00::5' }).headers, 'x-forwarded-for'), '1.1.1.1, fd00::5');
    assert.equal(get(build(p, { headers: [['x-forwarded-for', '1.1.1.1']], peer: 'fe80::5' }).headers, 'x-forwarded-for'), 'fe80::5');
    assert.equal(get(build(p, { headers: [['x-forwarded-for', '1.1.1.1']], peer: '::ffff:10.2.3.4' }).headers, 'x-forwarded-for'), '1.1.1.1, 10.2.3.4');
  });

  it('an unknown peer is never trusted: for=unknown, no X-Forwarded-For', () => {
    const { headers } = build(policy({ forwarded_headers: { mode: 'append', trusted_proxies: ['0.0.0.0/0', '::/0'] } }), { headers: INBOUND, peer: null });
    assert.equal(get(headers, 'x-forwarded-for'), null);
    assert.equal(get(headers, 'forwarded'), 'for=unknown;proto=https;host=shop.example');
  });

  it('hop-by-hop and connection-listed headers never cross', () => {
    const { headers } = build(policy(), {
      headers: [['connection', 'x-secret'], ['x-secret', '1'], ['keep-alive', '5'], ['te', 'trailers'], ['proxy-authorization', 'p'], ['x-ok', '1']],
    });
    assert.deepEqual(
      headers.map(([n]) => n).filter((n) => !['forwarded', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-request-id', 'via', 'traceparent'].includes(n)),
      ['host', 'x-ok'],
    );
  });
});

describe('upstreamRequestHeaders: host policy', () => {
  it("pass_through: the client's Host, else :authority; X-Forwarded-Host always the client's", () => {
    assert.equal(get(build(policy(), { headers: [['host', 'h.example']], authority: null }).headers, 'host'), 'h.example');
    assert.equal(get(build(policy()).headers, 'host'), 'shop.example');
    assert.equal(get(build(policy(), { authority: null }).headers, 'host'), null);
  });

  it('rewrite: the configured literal, Host first; XFH and Forwarded host= still the client host', () => {
    const { headers } = build(policy({}, { host_policy: 'rewrite', host_rewrite: 'api.internal' }), { headers: [['host', 'shop.example']] });
    assert.deepEqual(headers[0], ['host', 'api.internal']);
    assert.equal(get(headers, 'host'), 'api.internal');
    assert.equal(get(headers, 'x-forwarded-host'), 'shop.example');
    assert.match(get(headers, 'forwarded') ?? '', /host=shop\.example$/);
  });

  it("upstream: backend 0's host[:port] (default ports left out); withHost gives another backend's", () => {
    const p = policy({}, { host_policy: 'upstream' });
    assert.deepEqual(p.backendHosts, ['10.1.0.1:8080', '[fd00::2]']);
    const { headers } = build(p);
    assert.equal(get(headers, 'host'), '10.1.0.1:8080');
    const other = withHost(headers, p.backendHosts?.[1] ?? '');
    assert.equal(get(other, 'host'), '[fd00::2]');
    assert.equal(get(headers, 'host'), '10.1.0.1:8080', 'the shared list is not changed');
    assert.equal(other.length, headers.length);
  });
});

describe('upstreamRequestHeaders: Via', () => {
  it('`<version> spooky` per client protocol, after an inbound Via; configurable; disableable', () => {
    assert.equal(get(build(policy(), { protocol: 'h3' }).headers, 'via'), '3 spooky');
    assert.equal(get(build(policy(), { protocol: 'h2' }).headers, 'via'), '2 spooky');
    assert.equal(get(build(policy(), { protocol: 'http/1.1', headers: [['via', '1.1 cdn']] }).headers, 'via'), '1.1 cdn, 1.1 spooky');
    assert.equal(get(build(policy({ forwarded_headers: { via: 'edge-7' } })).headers, 'via'), '3 edge-7');
    assert.equal(get(build(policy({}, { forwarded_headers: { via: false } }), { headers: [['via', '2 x']] }).headers, 'via'), '2 x');
  });
});

describe('upstreamRequestHeaders: traceparent', () => {
  const TRACE_SHAPE = /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/;

  it('a valid inbound traceparent is propagated unchanged with its tracestate', () => {
    const r = build(policy(), { headers: [['traceparent', TRACEPARENT], ['tracestate', 'a=1'], ['tracestate', 'b=2']] });
    assert.equal(get(r.headers, 'traceparent'), TRACEPARENT);
    assert.equal(get(r.headers, 'tracestate'), 'a=1, b=2');
    assert.equal(r.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
  });

  it('absent or invalid → a fresh one (tracestate dropped); ids differ per request', () => {
    const invalid = [
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
      '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01',
      '01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g',
      '00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      '',
    ];
    const seen = new Set<string>();
    for (const value of invalid) {
      const r = build(policy(), { headers: [['traceparent', value], ['tracestate', 'a=1']] });
      const sent = get(r.headers, 'traceparent') ?? '';
      assert.match(sent, TRACE_SHAPE, value);
      assert.notEqual(sent, value);
      assert.equal(get(r.headers, 'tracestate'), null);
      assert.equal(r.traceId, sent.slice(3, 35));
      seen.add(r.traceId ?? '');
    }
    const absent = build(policy());
    assert.match(get(absent.headers, 'traceparent') ?? '', TRACE_SHAPE);
    seen.add(absent.traceId ?? '');
    assert.equal(seen.size, invalid.length + 1);
  });

  it('two traceparent headers are invalid', () => {
    const r = build(policy(), { headers: [['traceparent', TRACEPARENT], ['traceparent', TRACEPARENT]] });
    assert.notEqual(r.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(r.headers.filter(([n]) => n === 'traceparent').length, 1);
  });

  it('sampled flag: 100 % always, 0 % never, 50 % about half (decided from the trace id)', () => {
    const flags = (percent: number) => {
      const p = policy({ tracing: { sample_percent: percent } });
      let sampled = 0;
      for (let i = 0; i < 2000; i++) if ((get(build(p).headers, 'traceparent') ?? '').endsWith('-01')) sampled++;
      return sampled;
    };
    assert.equal(flags(100), 2000);
    assert.equal(flags(0), 0);
    const half = flags(50);
    assert.ok(half > 800 && half < 1200, `${half}`);
  });

  it('tracing off: traceparent / tracestate pass as any header, nothing generated', () => {
    const p = policy({ tracing: { enabled: false } });
    const r = build(p, { headers: [['traceparent', 'garbage'], ['tracestate', 'a=1']] });
    assert.equal(get(r.headers, 'traceparent'), 'garbage');
    assert.equal(get(r.headers, 'tracestate'), 'a=1');
    assert.equal(r.traceId, null);
    assert.equal(get(build(p).headers, 'traceparent'), null);
  });
});
