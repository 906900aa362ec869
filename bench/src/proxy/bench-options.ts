/**
 * Command line of the side-by-side proxy bench (`npm run bench -- [flags]`). Defaults are the
 * full suite; `--quick` shrinks rounds and windows so a run ends in under two minutes.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { WORKLOADS } from './workloads.ts';

export const ALL_TARGETS = ['direct', 'direct-aa', 'spooky-h1', 'spooky-h2', 'caddy-h1', 'caddy-h2'] as const;
/**
 * Opt-in targets (named in --targets, never in the default set): Spooky → H1 with every
 * resilience feature off (`spooky-h1-bare`) and with every one configured but not triggering
 * (`spooky-h1-full`), for issue 9's "what the features cost" comparison in one run; Spooky and
 * Caddy → HTTP/1.1 over TLS (`spooky-h1tls`, `caddy-h1tls`: a node:https origin whose ALPN
 * offers only http/1.1), which splits the H2 rows' extra cost into TLS and HTTP/2; Spooky → H1
 * with V8's own heap growing factor (`spooky-h1-v8gc`: SPOOKY_GC_HEAP_GROWING_PERCENT=0), the
 * A/B of the data plane's GC tuning (dataplane/src/runtime/gc-tuning.ts); Spooky → H1 run from
 * another checkout (`spooky-h1-baseline`, with `--baseline <dir>`: e.g. a worktree of main), the
 * side-by-side A/B of a hot-path change against the code it replaces, same config, same run;
 * Spooky → H1 with other Node options (`spooky-h1-b`, with `--b-node-options "<flags>"`: its
 * NODE_OPTIONS, e.g. a V8 heap flag to try before making it a default); Spooky → H1 under the
 * default scheduling policy (`spooky-h1-nobatch`: SPOOKY_SCHED_BATCH=0, the A/B of
 * dataplane/src/runtime/sched-tuning.ts) and Caddy → H2 under SCHED_BATCH (`caddy-h2-batch`,
 * started with `chrt --batch 0`), so the comparison can be made like for like.
 */
export const EXTRA_TARGETS = ['spooky-h1-bare', 'spooky-h1-full', 'spooky-h1tls', 'caddy-h1tls', 'spooky-h1-v8gc', 'spooky-h1-baseline', 'spooky-h1-b', 'spooky-h1-nobatch', 'caddy-h2-batch'] as const;

export interface BenchOptions {
  readonly quick: boolean;
  /** Closed-loop rounds; every round measures every (workload, target) once. */
  readonly rounds: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  /** Open-loop rounds (0 = no open-loop phase) and window. */
  readonly openRounds: number;
  readonly openDurationMs: number;
  /** Offered rate for the open loop; 'auto' = 70 % of the slower Caddy's small-GET req/s. */
  readonly rate: number | 'auto';
  readonly targets: readonly string[];
  readonly workloads: readonly string[];
  /**
   * Load generator processes. Default: one per CPU of the load CPU list (one on a 2-core
   * machine: on one shared core a second process only adds overhead, measured 7.7 k vs
   * 3.7–4.1 k small GETs/s).
   */
  readonly generators: number;
  /** `taskset -c` lists; null when pinning is off. */
  readonly sutCpu: string | null;
  readonly loadCpu: string | null;
  /** Markdown report file; JSON raw-rounds file (default: next to --out, else in the temp dir). */
  readonly out: string | null;
  readonly json: string | null;
  /** Hard bound on the whole run: past it everything is stopped and the run fails. */
  readonly maxMinutes: number;
  /** Caddy executable. */
  readonly caddy: string;
  /** Checkout whose `dataplane/src/main.ts` the `spooky-h1-baseline` target runs (null: none given). */
  readonly baseline: string | null;
  /** NODE_OPTIONS of the `spooky-h1-b` target (null: none given). */
  readonly bNodeOptions: string | null;
}

export const USAGE = `usage: npm run bench -- [--quick] [--rounds N] [--warmup S] [--duration S]
  [--open-rounds N] [--open-duration S] [--rate auto|N] [--targets ${ALL_TARGETS.join(',')}; also ${EXTRA_TARGETS.join(',')}]
  [--workloads ${WORKLOADS.map((w) => w.name).join(',')}] [--generators N]
  [--sut-cpu 1] [--load-cpu 0] [--no-pin] [--out report.md] [--json rounds.json]
  [--max-minutes M] [--caddy /usr/bin/caddy] [--baseline <checkout dir> (for spooky-h1-baseline)]
  [--b-node-options=<node flags> (for spooky-h1-b)]`;

function positive(name: string, value: string | undefined, fallback: number, integer: boolean): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < (integer ? 0 : 0.05) || (integer && !Number.isInteger(n))) throw new Error(`--${name}: expected a ${integer ? 'whole number' : 'number of seconds'}, got ${JSON.stringify(value)}\n${USAGE}`);
  return n;
}

function list(name: string, value: string | undefined, allowed: readonly string[]): readonly string[] {
  if (value === undefined) return allowed;
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = items.filter((i) => !allowed.includes(i));
  if (unknown.length > 0 || items.length === 0) throw new Error(`--${name}: unknown ${unknown.join(', ') || '(empty)'}; one of ${allowed.join(', ')}`);
  return allowed.filter((a) => items.includes(a));
}

export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      quick: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      warmup: { type: 'string' },
      duration: { type: 'string' },
      'open-rounds': { type: 'string' },
      'open-duration': { type: 'string' },
      rate: { type: 'string' },
      targets: { type: 'string' },
      workloads: { type: 'string' },
      generators: { type: 'string' },
      'sut-cpu': { type: 'string' },
      'load-cpu': { type: 'string' },
      'no-pin': { type: 'boolean', default: false },
      out: { type: 'string' },
      json: { type: 'string' },
      'max-minutes': { type: 'string' },
      caddy: { type: 'string' },
      baseline: { type: 'string' },
      'b-node-options': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) throw new Error(USAGE);
  const quick = values.quick === true;
  const targets = values.targets === undefined ? ALL_TARGETS : list('targets', values.targets, [...ALL_TARGETS, ...EXTRA_TARGETS]);
  if (!targets.includes('direct')) throw new Error('--targets must include direct (every ratio is to it)');
  const rate = values.rate === undefined || values.rate === 'auto' ? 'auto' : positive('rate', values.rate, 0, false);
  const rounds = positive('rounds', values.rounds, quick ? 2 : 5, true);
  if (rounds < 1) throw new Error('--rounds must be at least 1');
  const baseline = values.baseline ?? null;
  if (targets.includes('spooky-h1-baseline') && baseline === null) throw new Error('--targets spooky-h1-baseline needs --baseline <checkout with node_modules>');
  const bNodeOptions = values['b-node-options'] ?? null;
  if (targets.includes('spooky-h1-b') && bNodeOptions === null) throw new Error('--targets spooky-h1-b needs --b-node-options "<node flags>"');
  if (baseline !== null && !existsSync(join(baseline, 'dataplane', 'src', 'main.ts'))) throw new Error(`--baseline: no dataplane/src/main.ts under ${JSON.stringify(baseline)}`);
  return {
    quick,
    rounds,
    warmupMs: positive('warmup', values.warmup, quick ? 0.3 : 1, false) * 1000,
    durationMs: positive('duration', values.duration, quick ? 1 : 4, false) * 1000,
    openRounds: positive('open-rounds', values['open-rounds'], quick ? 1 : 3, true),
    openDurationMs: positive('open-duration', values['open-duration'], quick ? 1.2 : 5, false) * 1000,
    rate,
    targets,
    workloads: list('workloads', values.workloads, WORKLOADS.map((w) => w.name)),
    generators: Math.max(1, positive('generators', values.generators, values['no-pin'] ? 1 : cpuCount(values['load-cpu'] ?? '0'), true)),
    sutCpu: values['no-pin'] ? null : (values['sut-cpu'] ?? '1'),
    loadCpu: values['no-pin'] ? null : (values['load-cpu'] ?? '0'),
    out: values.out ?? null,
    json: values.json ?? null,
    maxMinutes: positive('max-minutes', values['max-minutes'], quick ? 3 : 40, false),
    caddy: values.caddy ?? 'caddy',
    baseline,
    bNodeOptions,
  };
}

/** Number of CPUs in a `taskset -c` list such as `0`, `0-3` or `0,2-3`. */
export function cpuCount(list: string): number {
  let n = 0;
  for (const part of list.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new Error(`not a CPU list: ${JSON.stringify(list)}`);
    n += m[2] === undefined ? 1 : Math.max(0, Number(m[2]) - Number(m[1]) + 1);
  }
  return Math.max(1, n);
}

/** Rotates `items` left by k (round k starts with the k-th target). */
export function rotate<T>(items: readonly T[], k: number): T[] {
  if (items.length === 0) return [];
  const s = ((k % items.length) + items.length) % items.length;
  return [...items.slice(s), ...items.slice(0, s)];
}
