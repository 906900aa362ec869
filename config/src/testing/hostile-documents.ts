/**
 * Generators of the hostile config documents found in issue 7 (and their relatives), shared by
 * the regression corpus (parse-config.hostile.test.ts) and the fuzz test. Each returns text.
 */

const LISTEN = 'listen: {address: 127.0.0.1, port: 9889, tls: {cert: c.pem, key: k.pem}}\n';

/** `n` backends with distinct ids and addresses, as one YAML flow sequence. */
function backendList(n: number, seed: number): string {
  const items: string[] = [];
  for (let i = 0; i < n; i++) items.push(`{id: b${i}, address: "10.${seed % 250}.${i >> 8}.${i & 255}:8080"}`);
  return `[${items.join(', ')}]`;
}

/**
 * Alias fan-out: `anchors` anchored backend lists of `perList` backends, each referenced by
 * `usesPerAnchor` route-less upstreams (a route-less upstream is valid, so none collide). Every
 * anchor is used at most 100 times, so the yaml library's own `maxAliasCount: 100` lets it
 * through. anchors=3, uses=68, perList=1000 is ~130 KB expanding to 204 000 backends;
 * anchors=100, uses=100 is ~4 MB expanding to 10 000 000.
 */
export function aliasFanoutYaml(anchors: number, usesPerAnchor: number, perList = 1000): string {
  let out = `version: 1\n${LISTEN}upstream:\n  main: {route: {path_prefix: /}, backends: [{id: m, address: "127.0.0.1:1"}]}\n`;
  for (let a = 0; a < anchors; a++) out += `  l${a}: {backends: &L${a} ${backendList(perList, a)}}\n`;
  for (let a = 0; a < anchors; a++) {
    for (let u = 0; u < usesPerAnchor; u++) out += `  u${a}-${u}: {backends: *L${a}}\n`;
  }
  return out;
}

/** Billion laughs: each level is a list of `fanout` aliases of the level below. */
export function billionLaughsYaml(levels: number, fanout: number): string {
  let out = `${LISTEN}upstream: {a: {backends: [{id: a, address: "h:1"}]}}\nx0: &x0 [${Array(fanout).fill('lol').join(',')}]\n`;
  for (let l = 1; l <= levels; l++) out += `x${l}: &x${l} [${Array(fanout).fill(`*x${l - 1}`).join(',')}]\n`;
  return out;
}

/** A DRY config: `upstreams` routes sharing one health check and one balancing policy by alias. */
export function dryAliasYaml(upstreams: number): string {
  let out = `version: 1\n${LISTEN}x-shared: {}\nupstream:\n`;
  for (let i = 0; i < upstreams; i++) {
    const shared = i === 0 ? '&hc {path: /healthz, interval: 2000}' : '*hc';
    const lb = i === 0 ? '&lb {type: least-connections}' : '*lb';
    out += `  u${i}:\n    route: {path_prefix: /u${i}}\n    load_balancing: ${lb}\n    backends:\n      - {id: a, address: "127.0.0.1:${1000 + i}", health_check: ${shared}}\n`;
  }
  return out.replace('x-shared: {}\n', '');
}

/** Padding until the document is about `bytes` long (used to reach the 4 MiB budget). */
function fill(prefix: string, unit: string, suffix: string, bytes: number): string {
  const count = Math.max(0, Math.floor((bytes - prefix.length - suffix.length) / unit.length));
  return prefix + unit.repeat(count) + suffix;
}

/** Deeply nested documents of about `bytes` bytes, one per nesting syntax. */
export const deepDocuments = {
  yamlFlowSeq: (bytes: number) => fill('upstream: ', '[', '', bytes / 2) + ']'.repeat(bytes / 2 - 10),
  yamlFlowMap: (bytes: number) => {
    const open = fill('upstream: ', '{a: ', '', bytes * 0.8);
    return open + '}'.repeat((open.length - 10) / 4);
  },
  yamlBlockMap: (bytes: number) => {
    let out = 'upstream:\n';
    for (let i = 1; out.length + i + 3 <= bytes; i++) out += `${' '.repeat(i)}a:\n`;
    return out;
  },
  yamlBlockSeq: (bytes: number) => fill('upstream:\n', '- ', 'x\n', bytes),
  yamlMixed: (bytes: number) => fill('upstream:\n', '- {a: [', '', bytes),
  jsonArray: (bytes: number) => fill('{"upstream": ', '[', '', bytes / 2) + ']'.repeat(bytes / 2 - 14) + '}',
  jsonObject: (bytes: number) => {
    const open = fill('{"upstream": ', '{"a":', '', bytes * 0.8);
    return `${open}1${'}'.repeat((open.length - 13) / 5)}}`;
  },
} as const;

/**
 * A valid-looking JSON config of ≤ 4 MiB whose canonical form is over 4 MiB: defaults (route
 * matcher lists, balancing, weights, health check fields) roughly triple its size.
 */
export function canonicalOverflowJson(upstreams = 10_000): string {
  const up: Record<string, unknown> = {};
  for (let i = 0; i < upstreams; i++) {
    up[`u${i}`] = {
      route: { host: `h${'x'.repeat(100)}.example`, path_prefix: `/u${i}` },
      backends: [{ id: 'a', address: `127.0.0.1:${1 + (i % 60000)}`, health_check: {} }],
    };
  }
  return JSON.stringify({ version: 1, listen: { address: '127.0.0.1', port: 9889, tls: { cert: 'c.pem', key: 'k.pem' } }, upstream: up });
}

/** `upstreams` upstreams of `perUpstream` literal backends each (no aliases). */
export function manyBackendsJson(upstreams: number, perUpstream: number): string {
  const up: Record<string, unknown> = {};
  for (let u = 0; u < upstreams; u++) {
    const backends = Array.from({ length: perUpstream }, (_, i) => ({ id: `b${i}`, address: `10.${u % 250}.${i >> 8}.${i & 255}:80` }));
    up[`u${u}`] = u === 0 ? { route: { path_prefix: '/' }, backends } : { backends };
  }
  return JSON.stringify({ listen: { tls: { cert: 'c.pem', key: 'k.pem' } }, upstream: up });
}
