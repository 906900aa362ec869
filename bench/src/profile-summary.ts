/**
 * Busy time of a V8 CPU profile (`--cpu-prof`) by owner, for the "where the CPU goes" sections
 * of bench/README.md:
 *
 *   node bench/src/profile-summary.ts <file.cpuprofile> [--requests N] [--top 25] [--functions a,b] [--skip-ms 0]
 *
 * Busy = every sample except `(idle)`. Self time goes to the owner of the sampled frame (by its
 * script URL: the QUIC library, undici, Spooky's body relay, the rest of Spooky, Node's
 * streams / net+TLS / other internals, GC, `(program)`); a frame without a URL (a native
 * function such as the library's `streamSend` or a V8 builtin) counts for the nearest caller
 * that has one, so a native call is charged to whoever made it. `--functions` prints the
 * inclusive time of the named functions (each sample counted once per name on its stack);
 * `--requests N` adds µs per request (the requests the profiled process served); `--skip-ms`
 * leaves out the profile's first milliseconds (start-up: module loading and compilation).
 */
import { readFileSync } from 'node:fs';
import { parseBenchArgs } from './proxy/bench-args.ts';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Owner of a script URL; null for a frame without one (native, builtin). */
export function ownerOf(url: string, functionName: string): string | null {
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(program)') return '(program): V8 / native, unattributed';
  if (url === '') return null;
  if (url.includes('@currentspace/http3')) return 'QUIC library (JS + its native calls)';
  if (url.includes('/undici/')) return 'undici';
  if (/dataplane\/src\/(streaming|ingress\/h3)\/|forwarding\/forward-handler\.ts/.test(url)) return 'Spooky body relay (streaming/, ingress/h3/, forward-handler)';
  if (url.includes('/dataplane/src/') || url.includes('/config/src/')) return 'Spooky, other';
  if (url.includes('node_modules')) return 'other packages';
  if (url.startsWith('node:internal/streams') || url === 'node:stream') return 'Node streams';
  if (/^node:(net|tls|_tls|internal\/(net|tls|stream_base_commons))/.test(url)) return 'Node net / TLS';
  if (url.startsWith('node:internal/process/task_queues') || url.startsWith('node:internal/timers')) return 'Node microtasks / ticks / timers';
  if (url.startsWith('node:')) return 'Node, other';
  return 'other scripts';
}

export interface ProfileSummary {
  readonly busyUs: number;
  readonly idleUs: number;
  readonly byOwner: ReadonlyMap<string, number>;
  readonly byFunction: ReadonlyMap<string, number>;
  readonly inclusive: ReadonlyMap<string, number>;
}

export function summariseProfile(profile: Profile, inclusiveNames: readonly string[] = [], skipUs = 0): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const ownerCache = new Map<number, string>();
  const owner = (id: number): string => {
    const cached = ownerCache.get(id);
    if (cached !== undefined) return cached;
    let cur: number | undefined = id;
    let found: string | null = null;
    while (cur !== undefined && found === null) {
      const frame = (byId.get(cur) as ProfileNode).callFrame;
      found = ownerOf(frame.url, frame.functionName);
      cur = parent.get(cur);
    }
    const result = found ?? 'native, no JS caller';
    ownerCache.set(id, result);
    return result;
  };
  const wanted = new Set(inclusiveNames);
  const byOwner = new Map<string, number>();
  const byFunction = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  let at = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] as number;
    const dt = profile.timeDeltas[i] ?? 0;
    at += dt;
    if (at < skipUs) continue;
    const frame = (byId.get(id) as ProfileNode).callFrame;
    if (frame.functionName === '(idle)') {
      idle += dt;
      continue;
    }
    busy += dt;
    const o = owner(id);
    byOwner.set(o, (byOwner.get(o) ?? 0) + dt);
    const fn = `${frame.functionName || '(anonymous)'} ${frame.url.split('/').slice(-2).join('/')}:${frame.lineNumber + 1} (${o.split(' ')[0]})`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + dt);
    if (wanted.size > 0) {
      const seen = new Set<string>();
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
        const name = (byId.get(cur) as ProfileNode).callFrame.functionName;
        if (wanted.has(name) && !seen.has(name)) {
          seen.add(name);
          inclusive.set(name, (inclusive.get(name) ?? 0) + dt);
        }
      }
    }
  }
  return { busyUs: busy, idleUs: idle, byOwner, byFunction, inclusive };
}

function table(entries: ReadonlyMap<string, number>, busy: number, requests: number, top: number): string[] {
  return [...entries.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, v]) => `| ${k} | ${((100 * v) / busy).toFixed(1)} % | ${requests > 0 ? (v / requests).toFixed(1) : ''} |`);
}

if (import.meta.main) {
  const USAGE = 'usage: node bench/src/profile-summary.ts <file.cpuprofile> [--requests N] [--top 25] [--functions a,b]';
  const [file, ...rest] = process.argv.slice(2);
  const values = parseBenchArgs({ requests: { type: 'string', default: '0' }, top: { type: 'string', default: '25' }, functions: { type: 'string', default: '' }, 'skip-ms': { type: 'string', default: '0' } }, USAGE, rest);
  if (!file || file.startsWith('--')) {
    process.stderr.write(`${USAGE}\n`);
    process.exit(2);
  }
  const requests = Number(values.requests);
  const names = String(values.functions).split(',').filter(Boolean);
  const s = summariseProfile(JSON.parse(readFileSync(file, 'utf8')) as Profile, names, Number(values['skip-ms']) * 1000);
  const perReq = requests > 0 ? ` = ${(s.busyUs / requests).toFixed(0)} µs per request over ${requests}` : '';
  console.log(`${file}: busy ${(s.busyUs / 1000).toFixed(0)} ms, idle ${(s.idleUs / 1000).toFixed(0)} ms${perReq}\n`);
  console.log('| owner (self time) | % of busy | µs/req |\n| --- | ---: | ---: |');
  console.log(table(s.byOwner, s.busyUs, requests, 100).join('\n'));
  console.log('\n| function (self time) | % of busy | µs/req |\n| --- | ---: | ---: |');
  console.log(table(s.byFunction, s.busyUs, requests, Number(values.top)).join('\n'));
  if (names.length > 0) {
    console.log('\n| function (inclusive) | % of busy | µs/req |\n| --- | ---: | ---: |');
    console.log(table(s.inclusive, s.busyUs, requests, 100).join('\n'));
  }
}
