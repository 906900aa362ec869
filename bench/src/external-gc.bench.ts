/**
 * Why the data plane sets V8's `--external-memory-accounted-in-global-limit`
 * (dataplane/src/runtime/gc-tuning.ts): what reading large response bodies through undici costs
 * in garbage collection, with V8's default and with the flag (plain node script):
 *
 *   node bench/src/external-gc.bench.ts [--rounds 3] [--ms 4000] [--bytes 1048576]
 *
 * Each cell is a child process (so each starts with a fresh heap): a node:http origin answering
 * --bytes from one prebuilt Buffer, and 8 undici requests in flight reading and dropping every
 * body chunk for --ms. The child reports requests, CPU µs per request and, from a `gc`
 * PerformanceObserver, major GCs per 1 000 requests and GC pause µs per request. Cells alternate
 * default / flag for --rounds; the table holds the medians. No Spooky code runs: this isolates
 * Node's per-read Buffers (external memory) from the proxy.
 */
import { spawnSync } from 'node:child_process';
import { parseBenchArgs } from './proxy/bench-args.ts';

const USAGE = 'usage: node bench/src/external-gc.bench.ts [--rounds 3] [--ms 4000] [--bytes 1048576]';
const values = parseBenchArgs({
    rounds: { type: 'string', default: '3' },
    ms: { type: 'string', default: '4000' },
    bytes: { type: 'string', default: String(1 << 20) },
    child: { type: 'string' },
  }, USAGE);

interface CellReport {
  readonly requests: number;
  readonly cpuUsPerRequest: number;
  readonly majorsPer1k: number;
  readonly gcUsPerRequest: number;
  readonly maxRssMb: number;
}

async function runChild(ms: number, bytes: number): Promise<void> {
  const http = await import('node:http');
  const { PerformanceObserver, constants } = await import('node:perf_hooks');
  const { Agent, request } = await import('undici');
  if (values.child === 'flag') (await import('node:v8')).setFlagsFromString('--external-memory-accounted-in-global-limit');
  const body = Buffer.alloc(bytes, 1);
  const server = http.createServer((_req, res) => {
    res.setHeader('content-length', body.length);
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  let majors = 0;
  let gcMs = 0;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcMs += e.duration;
      if ((e as unknown as { detail: { kind: number } }).detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors++;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  const agent = new Agent({ connections: 8 });
  const url = `http://127.0.0.1:${address.port}/`;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let requests = 0;
  const loop = async (): Promise<void> => {
    while (performance.now() - t0 < ms) {
      const res = await request(url, { dispatcher: agent });
      for await (const _chunk of res.body) {
        // dropped: only the allocation matters
      }
      requests++;
    }
  };
  await Promise.all(Array.from({ length: 8 }, loop));
  const cpu = process.cpuUsage(cpu0);
  const report: CellReport = {
    requests,
    cpuUsPerRequest: (cpu.user + cpu.system) / requests,
    majorsPer1k: (1000 * majors) / requests,
    gcUsPerRequest: (1000 * gcMs) / requests,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
  process.exit(0);
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

function runParent(rounds: number, ms: number, bytes: number): void {
  const cells: Record<'default' | 'flag', CellReport[]> = { default: [], flag: [] };
  for (let r = 0; r < rounds; r++) {
    const order: ('default' | 'flag')[] = r % 2 ? ['flag', 'default'] : ['default', 'flag'];
    for (const variant of order) {
      const out = spawnSync(process.execPath, [process.argv[1] as string, '--child', variant, '--ms', String(ms), '--bytes', String(bytes)], {
        encoding: 'utf8',
        timeout: ms + 30_000,
      });
      if (out.status !== 0) throw new Error(`child ${variant} failed (${out.status}): ${out.stderr}`);
      cells[variant].push(JSON.parse(out.stdout.trim().split('\n').pop() as string) as CellReport);
    }
  }
  const row = (name: string, cs: readonly CellReport[]): string =>
    `| ${name} | ${median(cs.map((c) => c.requests))} | ${median(cs.map((c) => c.cpuUsPerRequest)).toFixed(0)} | ${median(cs.map((c) => c.majorsPer1k)).toFixed(1)} | ${median(cs.map((c) => c.gcUsPerRequest)).toFixed(0)} | ${median(cs.map((c) => c.maxRssMb)).toFixed(0)} |`;
  console.log(`external-memory GC, ${bytes}-byte bodies through undici, ${rounds} rounds × ${ms} ms, Node ${process.version}\n`);
  console.log('| V8 setting | requests | CPU µs/req | major GCs per 1 000 req | GC pause µs/req | max RSS MB |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  console.log(row('default', cells.default));
  console.log(row('--external-memory-accounted-in-global-limit', cells.flag));
}

const ms = Number(values.ms);
const bytes = Number(values.bytes);
const rounds = Number(values.rounds);
if (!(ms > 0) || !(bytes > 0) || !(rounds >= 1)) throw new Error('usage: external-gc.bench.ts [--rounds N] [--ms N] [--bytes N]');
if (values.child !== undefined) await runChild(ms, bytes);
else runParent(rounds, ms, bytes);
