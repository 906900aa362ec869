/**
 * Fuzz: the H2/H3 head validator (requestHeadFromHeaders) and the HTTP/1.1 head builder
 * (requestHeadFromHttp1) on generated header maps and raw header lists: pseudo-header orders,
 * case variants and duplicates, unknown pseudo-headers, empty and non-token names, array
 * values, huge values, non-ASCII, NUL/CR/LF. Properties:
 *   - never throws, bounded time per input, a rejection names a reason of the vocabulary;
 *   - accepted ⇒ exactly one `:method`/`:scheme`/`:path` in the input (case-insensitively),
 *     taken verbatim; the path starts with `/`; no pseudo-header left in `headers`; every
 *     regular value kept in order under its lowercased name; no name outside the token
 *     grammar, no value with NUL/CR/LF.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { IncomingHeaders } from '@currentspace/http3';
import fc from 'fast-check';
import { cpuMs, fuzzRuns, PER_INPUT_CPU_MS } from '../../testing/fuzz-runs.ts';
import { type HeadResult, requestHeadFromHeaders, requestHeadFromHttp1 } from './request-head.ts';

const REASONS = new Set([
  'pseudo_header_duplicate',
  'pseudo_header_missing',
  'pseudo_header_unknown',
  'pseudo_header_after_regular',
  'path_invalid',
  'scheme_invalid',
  'header_name_invalid',
  'header_value_invalid',
]);
const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;

const names = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(':method', ':scheme', ':path', ':authority') },
  { weight: 1, arbitrary: fc.constantFrom(':Method', ':PATH', ':protocol', ':status', ':', '::path') },
  { weight: 4, arbitrary: fc.constantFrom('host', 'accept', 'Cookie', 'cookie', 'x-a', 'content-length', 'transfer-encoding', 'te', '42', '0', '__proto__') },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', 'x y', 'x:y', 'é', 'x\u0000', 'x\r\ny') },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);
const values = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom('GET', 'POST', 'https', 'http', '/', '/a?b', 'a', '', '*', 'example.com', 'ht tp', '1') },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 1, arbitrary: fc.constantFrom('v\r\nx: y', 'v\u0000', 'v\n', '\u00e9t\u00e9', 'x'.repeat(100_000)) },
);
const value = fc.oneof({ weight: 4, arbitrary: values }, { weight: 1, arbitrary: fc.array(values, { minLength: 0, maxLength: 3 }) });
const regularName = fc.constantFrom('host', 'accept', 'Cookie', 'cookie', 'x-a', 'X-A', 'content-length', 'user-agent', '42');
const goodValue = fc.oneof(fc.constantFrom('', 'v', 'a, b', ' spaced ', '\u00e9t\u00e9', 'x'.repeat(100_000)), fc.string({ maxLength: 20 }));
const pseudoSet = fc.tuple(
  fc.constantFrom('GET', 'POST', 'DELETE', ''),
  fc.constantFrom('https', 'http', 'ht tp', ''),
  fc.constantFrom('/', '/a?b=1', '/x/y', 'a', '*', ''),
  fc.option(fc.constantFrom('example.com', 'a.test:443', ''), { nil: undefined }),
);
/** Mostly near-valid heads (all pseudo-headers, then regular ones), with a few hostile entries spliced in. */
const entries = fc
  .tuple(
    fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    pseudoSet,
    fc.array(fc.tuple(regularName, fc.oneof({ weight: 4, arbitrary: goodValue }, { weight: 1, arbitrary: fc.array(goodValue, { maxLength: 3 }) })), { maxLength: 6 }),
    fc.array(fc.tuple(fc.nat(), names, value), { maxLength: 2 }),
  )
  .chain(([shuffle, [method, scheme, path, authority], regular, extras]) => {
    const pseudo: Array<[string, string | string[]]> = [
      [':method', method],
      [':scheme', scheme],
      [':path', path],
    ];
    if (authority !== undefined) pseudo.push([':authority', authority]);
    const ordered = shuffle ? fc.shuffledSubarray(pseudo, { minLength: 0, maxLength: pseudo.length }) : fc.constant(pseudo);
    return ordered.map((first) => {
      const list: Array<[string, string | string[]]> = [...first, ...regular];
      for (const [at, name, v] of extras) list.splice(at % (list.length + 1), 0, [name, v]);
      return list;
    });
  });

/** A header map as the library builds it: a plain object in arrival order (later duplicates overwrite). */
function toIncoming(list: ReadonlyArray<readonly [string, string | string[]]>): IncomingHeaders {
  const out: Record<string, string | string[]> = {};
  for (const [name, v] of list) out[name] = v;
  return out as IncomingHeaders;
}

function timed(run: () => HeadResult): HeadResult {
  const started = cpuMs();
  const result = run();
  assert.ok(cpuMs() - started < PER_INPUT_CPU_MS, 'bounded time');
  return result;
}

let h3Inputs = 0;
let h3Accepted = 0;
let h1Inputs = 0;
let h1Accepted = 0;
let failures = 0;

function countFailure(run: () => void): void {
  try {
    run();
  } catch (err) {
    failures++;
    throw err;
  }
}

describe('fuzz request-head', () => {
  test('requestHeadFromHeaders: accepted ⇒ one :method/:scheme/:path, path with /, no pseudo-header left', () => {
    countFailure(() =>
      fc.assert(
        fc.property(entries, (list) => {
          h3Inputs++;
          const incoming = toIncoming(list);
          const r = timed(() => requestHeadFromHeaders(incoming));
          if (!r.ok) {
            assert.ok(REASONS.has(r.reason), r.reason);
            return;
          }
          h3Accepted++;
          const keys = Object.keys(incoming);
          for (const pseudo of [':method', ':scheme', ':path']) {
            const matching = keys.filter((k) => k.toLowerCase() === pseudo);
            assert.equal(matching.length, 1, `exactly one ${pseudo}`);
            assert.equal(typeof incoming[matching[0] as string], 'string');
          }
          const original = (pseudo: string) => incoming[keys.find((k) => k.toLowerCase() === pseudo) as string];
          assert.equal(r.head.method, original(':method'));
          assert.equal(r.head.scheme, original(':scheme'));
          assert.equal(r.head.path, original(':path'));
          assert.ok(r.head.path.startsWith('/'));
          assert.ok(!keys.some((k) => k.startsWith(':') && !/^:(method|scheme|path|authority)$/i.test(k)), 'no unknown pseudo-header accepted');
          const expected: Array<[string, string]> = [];
          for (const k of keys) {
            if (k.startsWith(':')) continue;
            const v = incoming[k];
            for (const one of Array.isArray(v) ? v : v === undefined ? [] : [v]) expected.push([k.toLowerCase(), one]);
          }
          assert.deepEqual(r.head.headers, expected, 'regular headers kept in order');
          for (const [name, v] of r.head.headers) {
            assert.ok(!name.startsWith(':') && TOKEN.test(name), `name ${JSON.stringify(name)}`);
            assert.ok(!/[\0\r\n]/.test(v), 'value without NUL/CR/LF');
          }
        }),
        { numRuns: fuzzRuns(20_000) },
      ),
    );
  });

  test('requestHeadFromHttp1: accepted ⇒ origin-form path, every raw pair kept under a lowercase token name', () => {
    const raw = fc.array(fc.oneof(names, values), { maxLength: 12 });
    countFailure(() =>
      fc.assert(
        fc.property(fc.constantFrom('GET', 'POST', 'TRACE', 'X'), fc.oneof(values, fc.constantFrom('/', '/x', 'http://h/', '*')), raw, (method, url, rawHeaders) => {
          h1Inputs++;
          const r = timed(() => requestHeadFromHttp1(method, url, rawHeaders));
          if (!r.ok) {
            assert.ok(REASONS.has(r.reason), r.reason);
            return;
          }
          h1Accepted++;
          assert.ok(r.head.path.startsWith('/'));
          assert.equal(r.head.path, url);
          assert.equal(r.head.method, method);
          assert.equal(r.head.authority, null);
          assert.equal(r.head.headers.length, Math.floor(rawHeaders.length / 2));
          r.head.headers.forEach(([name, v], i) => {
            assert.equal(name, (rawHeaders[2 * i] as string).toLowerCase());
            assert.equal(v, rawHeaders[2 * i + 1]);
            assert.ok(!name.startsWith(':') && TOKEN.test(name));
            assert.ok(!/[\0\r\n]/.test(v));
          });
        }),
        { numRuns: fuzzRuns(20_000) },
      ),
    );
  });

  test('regressions: pseudo-header shapes', () => {
    const base = { ':method': 'GET', ':scheme': 'https', ':path': '/' };
    assert.equal(requestHeadFromHeaders({ ...base, ':Path': '/x' }).ok, false);
    assert.equal(requestHeadFromHeaders({ ':method': 'GET', accept: '*/*', ':scheme': 'https', ':path': '/' }).ok, false);
    assert.equal(requestHeadFromHeaders({ ...base, '': 'x' }).ok, false);
    assert.equal(requestHeadFromHeaders({ ...base, 'x-a': 'a\r\nb: c' }).ok, false);
    assert.equal(requestHeadFromHeaders({ ...base, ':protocol': 'websocket' }).ok, false);
  });

  test('summary', (t) => {
    t.diagnostic(`request-head: ${h3Accepted} of ${h3Inputs} header maps and ${h1Accepted} of ${h1Inputs} HTTP/1.1 lists accepted`);
    for (const line of [
      `fuzz requestHeadFromHeaders: ${h3Inputs} inputs, ${failures} failures`,
      `fuzz requestHeadFromHttp1: ${h1Inputs} inputs, ${failures} failures`,
    ]) {
      t.diagnostic(line);
      console.log(line);
    }
  });
});
