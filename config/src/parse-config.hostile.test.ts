/**
 * Regression corpus for issue 7: each hostile document found (alias bombs, deep nesting, huge
 * scalars, canonical-form overflow, YAML features outside the core schema) is refused with its
 * own code, quickly, with short messages; and the DRY uses of anchors still work.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalJson } from './canonical.ts';
import { MAX_YAML_BYTES } from './limits.ts';
import { MAX_CONFIG_BYTES, parseConfigText } from './parse-config.ts';
import {
  aliasFanoutYaml,
  billionLaughsYaml,
  canonicalOverflowJson,
  deepDocuments,
  dryAliasYaml,
  manyBackendsJson,
} from './testing/hostile-documents.ts';
import type { ConfigIssue } from './types.ts';

/** CPU ms; generous: these must not take seconds (main took 64 s for the 4 MB alias bomb). */
const BOUND_MS = 3_000;
/**
 * The yaml library parses about 1 MB/s here (a flat 4 MiB YAML of backends takes ~4 s with no
 * alias at all): a 4 MiB YAML document costs that whatever we refuse it for.
 */
const YAML_4MIB_BOUND_MS = 20_000;
/** No issue message may echo a huge value back. */
const MAX_MESSAGE = 512;

function refused(text: string, label: string, t: { diagnostic(msg: string): void }, boundMs = BOUND_MS): ConfigIssue[] {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const r = parseConfigText(text);
  const used = process.cpuUsage(cpu);
  const cpuMs = (used.user + used.system) / 1000;
  const ms = performance.now() - started;
  t.diagnostic(`${label}: ${(Buffer.byteLength(text) / 1024).toFixed(0)} KiB refused in ${ms.toFixed(1)} ms (${cpuMs.toFixed(1)} ms CPU)`);
  assert.equal(r.ok, false, `${label} must be refused`);
  // CPU time, not wall time: the machine is shared, and a loaded core stretches wall time 5×.
  assert.ok(cpuMs < boundMs, `${label} took ${cpuMs.toFixed(0)} ms of CPU`);
  const issues = r.ok ? [] : [...r.issues];
  for (const i of issues) assert.ok(i.message.length <= MAX_MESSAGE && i.pointer.length <= MAX_MESSAGE, `${label}: issue too long`);
  return issues;
}

const codes = (issues: ConfigIssue[]) => issues.map((i) => `${i.pointer} ${i.code}`);

test('alias fan-out: 130 KB expanding to 204 000 backends is refused before materialising', (t) => {
  const text = aliasFanoutYaml(3, 68);
  assert.ok(text.length < 200_000);
  assert.deepEqual(codes(refused(text, 'fan-out 3x68', t)), [' config.alias_limit']);
});

test('alias fan-out: the 4 MB bomb (10 000 000 backends) is refused by its size, before any YAML parser runs', (t) => {
  const text = aliasFanoutYaml(96, 100);
  assert.ok(Buffer.byteLength(text) <= MAX_CONFIG_BYTES);
  const rss = process.memoryUsage().rss;
  const issues = refused(text, 'fan-out 96x100', t);
  const grew = (process.memoryUsage().rss - rss) / 2 ** 20;
  t.diagnostic(`fan-out 96x100: rss grew ${grew.toFixed(0)} MiB`);
  assert.ok(grew < 256, 'main peaked at 4.1 GB');
  assert.deepEqual(codes(issues), [' config.too_large']);
  assert.match(issues[0]!.message, /YAML is limited to 1048576 bytes/);
});

test('alias fan-out: a bomb under the YAML size cap is refused without materialising', (t) => {
  const text = aliasFanoutYaml(22, 100);
  assert.ok(Buffer.byteLength(text) <= MAX_YAML_BYTES, `${Buffer.byteLength(text)} bytes`);
  const rss = process.memoryUsage().rss;
  const issues = refused(text, 'fan-out 22x100', t, YAML_4MIB_BOUND_MS);
  const grew = (process.memoryUsage().rss - rss) / 2 ** 20;
  t.diagnostic(`fan-out 22x100 (${Buffer.byteLength(text)} bytes): rss grew ${grew.toFixed(0)} MiB`);
  assert.ok(grew < 512);
  assert.deepEqual(codes(issues), [' config.alias_limit']);
  assert.match(issues[0]!.message, /4194304/);
});

test('billion laughs: nested aliases are refused by expanded size, not by luck', (t) => {
  assert.deepEqual(codes(refused(billionLaughsYaml(12, 10), 'laughs 12x10', t)), [' config.alias_limit']);
  assert.deepEqual(codes(refused(billionLaughsYaml(30, 2), 'laughs 30x2', t)), [' config.alias_limit']);
});

test('a cyclic alias is refused', (t) => {
  const text = 'listen: {tls: {cert: c, key: k}}\nupstream: &u {a: {backends: [{id: a, address: "h:1"}]}, b: *u}\n';
  assert.deepEqual(codes(refused(text, 'cycle', t)), [' config.alias_limit']);
});

test('anchors stay usable for DRY configs: 600 aliases of small nodes', () => {
  const r = parseConfigText(dryAliasYaml(300));
  assert.deepEqual(r.ok ? [] : r.issues, []);
  assert.ok(r.ok);
  assert.equal(r.config.upstream['u299']?.backends[0]?.health_check?.interval, 2000);
  assert.equal(r.config.upstream['u299']?.load_balancing.type, 'least-connections');
});

for (const [name, make] of Object.entries(deepDocuments)) {
  test(`deep nesting (${name}): 200 KiB and 4 MiB refused with config.too_deep before parsing`, (t) => {
    for (const bytes of [200 * 1024, MAX_CONFIG_BYTES - 64]) {
      const text = make(bytes);
      assert.ok(Buffer.byteLength(text) <= MAX_CONFIG_BYTES, `${name} fits the size budget`);
      const issues = refused(text, `${name} ${bytes}`, t);
      assert.deepEqual(issues.map((i) => i.code), ['config.too_deep'], name);
      assert.match(issues[0]!.message, /64/);
    }
  });
}

test('deep nesting through aliases is refused too', (t) => {
  let text = 'listen: {tls: {cert: c, key: k}}\nupstream: {a: {backends: [{id: a, address: "h:1"}]}}\nx0: &x0 [1]\n';
  for (let i = 1; i <= 80; i++) text += `x${i}: &x${i} [*x${i - 1}]\n`;
  assert.deepEqual(codes(refused(text, 'alias depth', t)), [' config.too_deep']);
});

test('canonical form over 4 MiB is refused at the root with config.too_large', (t) => {
  const text = canonicalOverflowJson();
  assert.ok(Buffer.byteLength(text) <= MAX_CONFIG_BYTES);
  const issues = refused(text, 'canonical overflow', t);
  assert.deepEqual(codes(issues), [' config.too_large']);
  assert.match(issues[0]!.message, /canonical/);
});

test('a config just under the caps is accepted and its canonical form fits', () => {
  const r = parseConfigText(canonicalOverflowJson(5_000));
  assert.ok(r.ok, JSON.stringify(r.ok ? [] : r.issues.slice(0, 3)));
  assert.ok(Buffer.byteLength(canonicalJson(r.config)) <= MAX_CONFIG_BYTES);
});

test('total backends across upstreams are capped', (t) => {
  assert.ok(parseConfigText(manyBackendsJson(10, 1000)).ok, '10 000 backends are fine');
  assert.deepEqual(codes(refused(manyBackendsJson(11, 1000), 'backends 11x1000', t)), ['/upstream budget.backends']);
});

test('huge scalars: a 3 MB matcher value, key, path and host are refused with short messages', (t) => {
  const big = 'x'.repeat(3_000_000);
  const bigYaml = 'x'.repeat(900_000); // YAML documents are capped at 1 MiB
  const base = (extra: string) => `listen: {tls: {cert: c, key: k}}\nupstream:\n  a:\n    backends: [{id: a, address: "h:1"}]\n${extra}`;
  assert.deepEqual(codes(refused(base(`    route: {headers: [{name: x-a, exact: ${bigYaml}}]}\n`), 'matcher value', t)), [
    '/upstream/a/route/headers/0/exact budget.string',
  ]);
  assert.deepEqual(codes(refused(base(`    ${bigYaml}: 1\n`), 'yaml key', t)), ['/upstream/a config.syntax'], 'YAML caps implicit keys at 1024');
  assert.deepEqual(codes(refused(base(`    route: {host: ${big}}\n`), 'yaml over 1 MiB', t)), [' config.too_large']);
  const key = `{"listen": {"tls": {"cert": "c", "key": "k"}}, "upstream": {"a": {"${big}": 1, "backends": [{"id": "a", "address": "h:1"}]}}}`;
  assert.deepEqual(codes(refused(key, 'json key', t)), ['/upstream/a budget.key']);
  assert.deepEqual(codes(refused(base(`    route: {host: ${bigYaml}}\n`), 'host', t)), ['/upstream/a/route/host budget.string']);
  const path = `{"listen": {"tls": {"cert": "${big}", "key": "k"}}, "upstream": {"a": {"backends": [{"id": "a", "address": "h:1"}]}}}`;
  assert.deepEqual(codes(refused(path, 'cert path', t)), ['/listen/tls/cert budget.string']);
});

test('YAML tags outside the core schema are refused; core tags still work', (t) => {
  const doc = (v: string) => `listen: {tls: {cert: c, key: k}}\nlog: {level: ${v}}\nupstream: {a: {backends: [{id: a, address: "h:1"}]}}\n`;
  for (const tag of ['!foo info', '!!binary aGVsbG8=', '!!timestamp 2001-12-14', '!!set {info}', '!<tag:example.com,2000:x> info']) {
    const issues = refused(doc(tag), tag, t);
    assert.deepEqual(issues.map((i) => `${i.pointer} ${i.code}`), ['/log/level config.yaml_tag'], tag);
  }
  const ok = parseConfigText(doc('!!str info'));
  assert.ok(ok.ok);
});

test('YAML 1.1 documents (merge keys, yes/no booleans) are refused; << is an ordinary unknown key', (t) => {
  const v11 = '%YAML 1.1\n---\nlisten: {tls: {cert: c, key: k}}\nupstream_tls: {verify_certificates: no}\nupstream: {a: {backends: [{id: a, address: "h:1"}]}}\n';
  assert.deepEqual(codes(refused(v11, 'yaml 1.1', t)), [' config.yaml_unsupported']);
  const merge = 'x-base: &base {type: random}\nlisten: {tls: {cert: c, key: k}}\nupstream: {a: {load_balancing: {<<: *base}, backends: [{id: a, address: "h:1"}]}}\n';
  assert.deepEqual(
    codes(refused(merge, 'merge key', t)).sort(),
    ['/upstream/a/load_balancing/<< schema.unknown_key', '/upstream/a/load_balancing/type schema.required', '/x-base schema.unknown_key'].sort(),
  );
});

test('complex (non-scalar) YAML mapping keys are refused', (t) => {
  const text = 'listen: {tls: {cert: c, key: k}}\nupstream: {a: {backends: [{id: a, address: "h:1"}]}}\n? [a, b]\n: 1\n';
  assert.deepEqual(codes(refused(text, 'complex key', t)), [' config.yaml_unsupported']);
});
