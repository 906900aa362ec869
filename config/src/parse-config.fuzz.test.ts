/**
 * Fuzzing parseConfigText / parseConfig with generated JSON and YAML: near-valid configs
 * (mutations of config/examples, serialised in several styles, then edited as text) and hostile
 * shapes (anchors and aliases, tags, deep nesting, huge scalars, duplicate keys, odd unicode).
 *
 * Properties, for every input: never throws; finishes within PER_INPUT_MS; accepted ⇒ its
 * canonical form is ≤ MAX_CONFIG_BYTES, re-parses, and gives the same canonical bytes and
 * digest; refused ⇒ 1..MAX_ISSUES issues, each with a dotted code, a short non-empty message
 * and a valid JSON Pointer. Also: the text depth scan never reports a YAML document the parser
 * accepts as shallower than it is (one level of slack); RSS growth over the whole file stays
 * under RSS_BOUND_MIB and the heap (after a full GC) grows less than RETAINED_BOUND_MIB from the
 * end of the first property to the end, whatever the run count. Run
 * counts: fuzzRuns(BASE) (`npm run fuzz` = ×100).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { parse, parseDocument, stringify } from 'yaml';
import { canonicalJson, digest } from './canonical.ts';
import { MAX_CONFIG_BYTES, MAX_ISSUES } from './limits.ts';
import { type ConfigFormat, parseConfig, parseConfigText } from './parse-config.ts';
import { fuzzRuns } from './testing/fuzz-runs.ts';
import { yamlNodeDepth } from './testing/yaml-node-depth.ts';
import { yamlTooDeep } from './text-depth.ts';
import type { ParseResult } from './types.ts';

/** CPU ms per input; generous: typical inputs take well under 10 ms, the largest ~100 ms. */
const PER_INPUT_MS = 2_000;
/** Peak: the yaml library's node tree for a 200 KB scalar document is the largest single cost. */
const RSS_BOUND_MIB = 1_024;
/** Heap growth (after a full GC) from the end of the first property to the end: a leak shows here. */
const RETAINED_BOUND_MIB = 64;
const MAX_MESSAGE = 2_048;
const POINTER = /^(\/([^~/]|~[01])*)*$/;
const CODE = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;

/** A full collection, to tell retained memory from the heap's high-water mark. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

let rssBefore = 0;
/** Heap after the first property: fast-check's and the libraries' one-time tables (~85 MiB) are in. */
let heapWarm = -1;
before(() => {
  rssBefore = process.memoryUsage().rss;
});
after(() => {
  const rssGrew = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
  collectGarbage();
  const retained = (process.memoryUsage().heapUsed - heapWarm) / 2 ** 20;
  console.log(
    `fuzz parse-config: rss grew ${rssGrew.toFixed(0)} MiB (bound ${RSS_BOUND_MIB}), heap grew ${retained.toFixed(0)} MiB after the first property, after GC (bound ${RETAINED_BOUND_MIB})`,
  );
  assert.ok(rssGrew < RSS_BOUND_MIB, `rss grew ${rssGrew.toFixed(0)} MiB`);
  assert.ok(retained < RETAINED_BOUND_MIB, `heap retained ${retained.toFixed(0)} MiB`);
});

/** The properties every parse result must have. */
function checkResult(r: ParseResult, elapsedMs: number): void {
  assert.ok(elapsedMs < PER_INPUT_MS, `took ${elapsedMs.toFixed(0)} ms`);
  if (r.ok) {
    const canonical = canonicalJson(r.config);
    assert.ok(Buffer.byteLength(canonical) <= MAX_CONFIG_BYTES, 'canonical form over the budget');
    const again = parseConfigText(canonical, 'json');
    assert.ok(again.ok, `canonical form re-parses: ${JSON.stringify(again.ok ? [] : again.issues.slice(0, 2))}`);
    assert.equal(canonicalJson(again.config), canonical);
    assert.equal(digest(again.config), digest(canonical));
    return;
  }
  assert.ok(r.issues.length >= 1 && r.issues.length <= MAX_ISSUES, `${r.issues.length} issues`);
  for (const i of r.issues) {
    assert.match(i.code, CODE);
    assert.ok(typeof i.message === 'string' && i.message.length > 0 && i.message.length <= MAX_MESSAGE, `message of ${i.code}`);
    assert.match(i.pointer, POINTER, `pointer of ${i.code}`);
  }
}

function run<T>(target: string, base: number, arb: fc.Arbitrary<T>, parseIt: (input: T) => ParseResult): void {
  let inputs = 0;
  fc.assert(
    fc.property(arb, (input) => {
      inputs++;
      // CPU time, not wall time: the machine is shared.
      const cpu = process.cpuUsage();
      const r = parseIt(input);
      const used = process.cpuUsage(cpu);
      checkResult(r, (used.user + used.system) / 1000);
    }),
    { numRuns: fuzzRuns(base) },
  );
  console.log(`fuzz ${target}: ${inputs} inputs, 0 failures`);
  if (heapWarm < 0) {
    collectGarbage();
    heapWarm = process.memoryUsage().heapUsed;
  }
}

// ---- near-valid: mutated examples ----

const examplesDir = join(import.meta.dirname, '..', 'examples');
const examples: unknown[] = readdirSync(examplesDir).map((f) => parse(readFileSync(join(examplesDir, f), 'utf8')) as unknown);

const oddString = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom('', ' ', '\u0000', '\uFEFF', '\u2028', '\u202E', '\uD800', 'é', '🙂', '~1', '/', '*', '-----BEGIN', 'header:x', '0', 'null', 'yes'),
  fc.integer({ min: 1, max: 12_000 }).map((n) => 'h'.repeat(n)),
);
const anyValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  oddString,
  fc.constantFrom(0, -1, 1, 65535, 65536, 2 ** 53, 1e308, -0, 0.5, true, false, null, [], {}),
);

type Mutation = { readonly at: number; readonly op: 'delete' | 'set' | 'unknown' | 'dup' | 'wrap' | 'rename'; readonly value: unknown; readonly key: string };
const mutation: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  op: fc.constantFrom('delete', 'set', 'unknown', 'dup', 'wrap', 'rename'),
  value: anyValue,
  key: fc.oneof(oddString, fc.constantFrom('__proto__', 'constructor', 'route', 'backends', 'key', 'listen')),
});

/** Every (container, key) in a JSON value, in document order. */
function slots(root: unknown): [Record<string, unknown> | unknown[], string | number][] {
  const out: [Record<string, unknown> | unknown[], string | number][] = [];
  const visit = (v: unknown) => {
    if (Array.isArray(v)) {
      v.forEach((c, i) => {
        out.push([v, i]);
        visit(c);
      });
    } else if (v !== null && typeof v === 'object') {
      for (const [k, c] of Object.entries(v)) {
        out.push([v as Record<string, unknown>, k]);
        visit(c);
      }
    }
  };
  visit(root);
  return out;
}

function mutate(doc: unknown, m: Mutation): void {
  const all = slots(doc);
  if (all.length === 0) return;
  const [container, key] = all[m.at % all.length] as [Record<string, unknown>, string];
  const current = container[key];
  switch (m.op) {
    case 'delete':
      if (Array.isArray(container)) container.splice(Number(key), 1);
      else delete container[key];
      break;
    case 'set':
      container[key] = structuredClone(m.value);
      break;
    case 'unknown':
      if (current !== null && typeof current === 'object' && !Array.isArray(current)) Object.defineProperty(current, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
      break;
    case 'dup':
      if (Array.isArray(current)) current.push(structuredClone(current[0]));
      break;
    case 'wrap':
      container[key] = [current];
      break;
    case 'rename':
      if (!Array.isArray(container) && m.key !== '__proto__') {
        delete container[key];
        container[m.key] = current;
      }
      break;
  }
}

const yamlStyles = [
  {},
  { collectionStyle: 'flow' as const },
  { indentSeq: false, indent: 4 },
  { defaultStringType: 'QUOTE_DOUBLE' as const },
  { defaultStringType: 'QUOTE_SINGLE' as const, defaultKeyType: 'PLAIN' as const },
  { defaultStringType: 'BLOCK_LITERAL' as const },
];
const EDIT_CHARS = ['[', ']', '{', '}', ':', ',', '-', "'", '"', '#', '&a ', '*a', '!x ', '|', '>', '\n', ' ', '\t', '\u0000', '\uFEFF', '\u2028', 'é', '🙂', '<<: ', '%YAML 1.1\n'];
type Edit = { readonly at: number; readonly kind: 'insert' | 'delete' | 'dupLine'; readonly text: string; readonly len: number };
const edit: fc.Arbitrary<Edit> = fc.record({
  at: fc.nat(),
  kind: fc.constantFrom('insert', 'delete', 'dupLine'),
  text: fc.constantFrom(...EDIT_CHARS),
  len: fc.integer({ min: 1, max: 8 }),
});

function applyEdit(text: string, e: Edit): string {
  const at = text.length === 0 ? 0 : e.at % text.length;
  if (e.kind === 'insert') return text.slice(0, at) + e.text + text.slice(at);
  if (e.kind === 'delete') return text.slice(0, at) + text.slice(at + e.len);
  const start = text.lastIndexOf('\n', at) + 1;
  const end = text.indexOf('\n', at);
  const line = text.slice(start, end < 0 ? text.length : end + 1);
  return text.slice(0, start) + line + (line.endsWith('\n') ? '' : '\n') + text.slice(start);
}

const nearValidText = fc
  .tuple(
    fc.nat({ max: examples.length - 1 }),
    fc.array(mutation, { maxLength: 3 }),
    fc.constantFrom<'json' | 'yaml' | 'sniff'>('json', 'yaml', 'sniff'),
    fc.nat({ max: yamlStyles.length - 1 }),
    fc.array(edit, { maxLength: 2 }),
  )
  .map(([which, mutations, format, style, edits]) => {
    const doc = structuredClone(examples[which]);
    for (const m of mutations) mutate(doc, m);
    let text = format === 'json' ? JSON.stringify(doc, null, style % 2 === 0 ? 2 : undefined) : stringify(doc, yamlStyles[style]);
    for (const e of edits) text = applyEdit(text, e);
    const fmt: ConfigFormat | undefined = format === 'sniff' ? undefined : format;
    return { text, fmt };
  });

test('fuzz parseConfigText: near-valid configs (mutated examples, JSON and YAML, text edits)', () => {
  run('parseConfigText near-valid', 600, nearValidText, ({ text, fmt }) => parseConfigText(text, fmt));
});

// ---- hostile YAML shapes ----

const LISTEN = 'listen: {address: 127.0.0.1, port: 9889, tls: {cert: c.pem, key: k.pem}}\n';
const UPSTREAM = 'upstream:\n  app:\n    route: {path_prefix: /}\n    backends:\n      - {id: a, address: "127.0.0.1:8080"}\n';

/** Anchors forming a random DAG: each level aliases earlier anchors `fanout` times. */
const aliasDag = fc
  .tuple(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 30 }), fc.constantFrom('[x, y]', '{id: a, address: "h:1"}', 'x', '~', '"long string"'))
  .map(([levels, fanout, leaf]) => {
    let out = `x0: &a0 ${leaf}\n`;
    for (let l = 1; l <= levels; l++) out += `x${l}: &a${l} [${Array.from({ length: fanout }, (_, i) => `*a${(l - 1 - (i % l) + l) % l}`).join(', ')}]\n`;
    return out;
  });
const tagged = fc
  .tuple(fc.constantFrom('!foo', '!!binary', '!!timestamp', '!!set', '!!omap', '!!str', '!!int', '!!map', '!<tag:x,2000:y>', '!', '!!python/object'), fc.constantFrom('info', '1', '{a: 1}', '[1]', 'aGVsbG8='))
  .map(([tag, value]) => `log: {level: ${tag} ${value}}\n`);
const openers = ['[', '{a: ', '- ', '? ', '"', "'", '|\n', '&a ', '*a ', '!!seq ', '\n  a:', '\n- ', '# [[\n'];
const deepNest = fc
  .tuple(fc.array(fc.constantFrom(...openers), { minLength: 1, maxLength: 300 }), fc.boolean())
  .map(([parts, close]) => {
    const body = parts.join('');
    const closers = close ? parts.map((p) => (p === '[' ? ']' : p === '{a: ' ? '}' : '')).reverse().join('') : '';
    return `x: ${body}1${closers}\n`;
  });
const hugeScalar = fc
  .tuple(fc.integer({ min: 1_000, max: 200_000 }), fc.constantFrom('key', 'value', 'matcher', 'quoted', 'block'))
  .map(([n, where]) => {
    const big = 'x'.repeat(n);
    if (where === 'key') return `${big}: 1\n`;
    if (where === 'matcher') return `upstream:\n  m:\n    route: {headers: [{name: x, exact: ${big}}]}\n    backends: [{id: a, address: "h:1"}]\n`;
    if (where === 'quoted') return `log: {level: "${big}"}\n`;
    if (where === 'block') return `log:\n  level: |\n    ${big}\n`;
    return `log: {level: ${big}}\n`;
  });
const duplicateKeys = fc.constantFrom('listen: {}\n', 'upstream: {}\n', 'log: {level: info}\nlog: {level: warn}\n', 'log: {level: info, level: warn}\n');
const oddUnicode = fc.string({ unit: 'binary', maxLength: 40 }).map((s) => `${s}: ${s}\n`);

const hostileFragment = fc.oneof(aliasDag, tagged, deepNest, hugeScalar, duplicateKeys, oddUnicode);
const hostile = fc
  .tuple(fc.array(hostileFragment, { minLength: 1, maxLength: 3 }), fc.boolean(), fc.boolean())
  .map(([fragments, withBase, crlf]) => {
    let text = (withBase ? LISTEN + UPSTREAM : '') + fragments.join('');
    if (crlf) text = text.replaceAll('\n', '\r\n');
    return text;
  });

test('fuzz parseConfigText: hostile YAML (aliases, tags, nesting, huge scalars, duplicate keys, odd unicode)', () => {
  run(
    'parseConfigText hostile YAML',
    600,
    hostile,
    (text) => parseConfigText(text),
  );
});

test('fuzz yamlTooDeep: never shallower than what the parser builds (one level of slack)', () => {
  let inputs = 0;
  fc.assert(
    fc.property(fc.oneof(hostile, nearValidText.map(({ text }) => text)), (text) => {
      inputs++;
      const doc = parseDocument(text, { uniqueKeys: false, strict: false, prettyErrors: false });
      if (doc.errors.length > 0) return;
      const real = yamlNodeDepth(doc);
      if (real >= 2) assert.ok(yamlTooDeep(text, real - 2) !== null, `scan says ≤ ${real - 2} for depth ${real}:\n${text.slice(0, 400)}`);
    }),
    { numRuns: fuzzRuns(400) },
  );
  console.log(`fuzz yamlTooDeep: ${inputs} inputs, 0 failures`);
});

// ---- decoded values (REST JSON bodies) ----

const configShaped = fc
  .tuple(fc.nat({ max: examples.length - 1 }), fc.array(mutation, { maxLength: 5 }))
  .map(([which, mutations]) => {
    const doc = structuredClone(examples[which]);
    for (const m of mutations) mutate(doc, m);
    return doc;
  });

test('fuzz parseConfig: decoded values (mutated examples, arbitrary JSON)', () => {
  run(
    'parseConfig decoded values',
    600,
    fc.oneof(configShaped, fc.jsonValue({ maxDepth: 6 })),
    (v) => parseConfig(v),
  );
});
