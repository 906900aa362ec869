/**
 * Where a large generation's propagation spends CPU, stage by stage, in this process (plain
 * node script, run from the repository root):
 *
 *   node bench/src/propagation-stages.bench.ts [--fill padded|hex] [--rounds 5]
 *
 * The same ~4 MiB document as the large rows of propagation.bench.ts (1 000 upstreams, path
 * prefixes padded with one letter or with random hex). Each stage is the very function the
 * planes run, timed alone (median of `--rounds`, after one warm-up round), so the table says
 * what one activation costs wherever it runs: control plane (create → activate → push build)
 * and data plane (decode → digest → parse → compile, the IPC and cache encodings). It does not
 * time gRPC, SQLite or the per-session frame copies: propagation.bench.ts measures those end to
 * end, with `--cpu-prof` for the profiles.
 */
import { randomBytes } from 'node:crypto';
import { zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { type Config, canonicalJson, diff, digest, parseConfig, parseConfigText } from '@spooky/config';
import { pushPlan } from '../../controlplane/src/distribution/push-plan.ts';
import { encodeCacheEntry } from '../../dataplane/src/cache/cache-entry.ts';
import { compileGeneration } from '../../dataplane/src/compile/compile-generation.ts';
import { decodePayload } from '../../dataplane/src/control/payload-decoding.ts';
import { LongLivedState } from '../../dataplane/src/runtime/long-lived-state.ts';

const at = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const FILL = at('fill') ?? 'hex';
const ROUNDS = Number(at('rounds') ?? 5);
const TARGET_BYTES = 4_190_000;

function document(variant: string, filler: number): Record<string, unknown> {
  const upstream: Record<string, unknown> = {};
  for (let i = 0; i < 1000; i++) {
    const pad = FILL === 'padded' ? 'p'.repeat(filler) : randomBytes(Math.ceil(filler / 2)).toString('hex').slice(0, filler);
    upstream[`svc${i}`] = {
      route: { path_prefix: `/svc${i}/${variant}${pad}` },
      backends: [{ id: 'b1', address: `http://127.0.0.1:${8000 + i}` }],
    };
  }
  return {
    version: 1,
    listen: { protocol: 'http3', address: '127.0.0.1', port: 9443, tls: { cert: 'certs/cert.pem', key: 'certs/key.pem' } },
    upstream,
  };
}

function mustParse(input: unknown): Config {
  const parsed = parseConfig(input);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues.slice(0, 3)));
  return parsed.config;
}

const bare = Buffer.byteLength(canonicalJson(mustParse(document('a', 0))));
const filler = Math.floor((TARGET_BYTES - bare) / 1000);
const requestText = JSON.stringify(document('a', filler));
const other = mustParse(document('b', filler));
const config = mustParse(JSON.parse(requestText));
const canonical = canonicalJson(config);
const bytes = Buffer.from(canonical);
const zstd = pushPlan({ scope: 's', seq: 1, digest: digest(bytes) }, bytes, undefined, 'zstd');
const wire = zstdCompressSync(bytes);

type Stage = readonly [plane: string, name: string, run: () => unknown];
const stages: Stage[] = [
  ['CP', 'POST: parseConfigText (JSON.parse + validate + normalize)', () => parseConfigText(requestText, 'json')],
  ['CP', 'POST: canonicalJson + sha256', () => digest(canonicalJson(config))],
  ['CP', 'activate, uncached: JSON.parse + parseConfig of the stored document', () => parseConfig(JSON.parse(canonical))],
  ['CP', 'activate: diff of two configs (canonicalJson + JSON.parse per side + walk)', () => diff(other, config)],
  ['CP', 'activate: JSON.parse of the stored document (the old schema-version read, twice)', () => JSON.parse(canonical)],
  ['CP', 'snapshot: identity push plan (encode once)', () => pushPlan({ scope: 's', seq: 1, digest: 'x' }, bytes)],
  ['CP', 'snapshot: zstd push plan (compress level 1 + encode once)', () => pushPlan({ scope: 's', seq: 1, digest: 'x' }, bytes, undefined, 'zstd')],
  ['DP', 'decode zstd (bounded by decoded_size)', () => decodePayload(wire, 'zstd', bytes.byteLength, 64 * 1024 * 1024)],
  ['DP', 'sha256 of the canonical bytes', () => digest(bytes)],
  ['DP', 'worker: Buffer → string + JSON.parse', () => JSON.parse(bytes.toString('utf8'))],
  ['DP', 'worker: parseConfig', () => parseConfig(JSON.parse(canonical))],
  ['DP', 'worker: compileGeneration', () => compileGeneration(config, { scope: 's', seq: 1, digest: 'x' }, new LongLivedState())],
  ['DP', 'primary → each worker: IPC JSON message with the payload text', () => JSON.stringify({ kind: 'prepare', payload: canonical })],
  ['DP', 'disk cache: encodeCacheEntry (after the Ack now)', () => encodeCacheEntry({ ref: { scope: 's', seq: 1, digest: 'x' }, payload: canonical, savedAtMs: 0 })],
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

console.log(`node ${process.version}, ${FILL} filler, canonical ${bytes.byteLength.toLocaleString('en')} bytes, zstd push ${zstd.totalSize.toLocaleString('en')} bytes (${(bytes.byteLength / zstd.totalSize).toFixed(1)}×), median of ${ROUNDS}`);
console.log('| plane | stage | CPU ms |');
console.log('| --- | --- | ---: |');
for (const [plane, name, run] of stages) {
  run();
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = process.cpuUsage();
    run();
    const used = process.cpuUsage(t0);
    times.push((used.user + used.system) / 1000);
  }
  console.log(`| ${plane} | ${name} | ${median(times).toFixed(1)} |`);
}
// Keep the check honest: the zstd frame decodes to the canonical bytes.
if (!zstdDecompressSync(wire).equals(bytes)) throw new Error('zstd round trip failed');
