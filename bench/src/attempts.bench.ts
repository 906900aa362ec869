/**
 * Micro-benchmark of one request through the data plane's request handler (plain node script):
 *
 *   node bench/src/attempts.bench.ts [--ms 300]
 *
 * An in-memory exchange (GET, no body) and an instant fake transport (a 2-byte response head
 * and body delivered synchronously), so what is measured is the pipeline and the attempt loop,
 * not sockets. Two upstreams with two backends each: `plain` (hedging off, the default) and
 * `hedged` (hedging on, delay 100 ms, never triggering because the head is instant). Prints
 * CPU µs per request (user + system, median of 5 runs) as a Markdown table; only ratios from
 * one run mean anything on a shared machine.
 */
import { parseConfig } from '@spooky/config';
import pino from 'pino';
import { compileGeneration } from '../../dataplane/src/compile/compile-generation.ts';
import type { BackendTransport, UpstreamResponse } from '../../dataplane/src/http/backend-transport.ts';
import { createMemoryExchange } from '../../dataplane/src/http/memory-exchange.ts';
import { createRequestHandler } from '../../dataplane/src/pipeline/request-handler.ts';
import { GenerationStore } from '../../dataplane/src/runtime/generation-store.ts';
import { LongLivedState } from '../../dataplane/src/runtime/long-lived-state.ts';

const msArg = process.argv.indexOf('--ms');
const RUN_MS = msArg > 0 ? Number(process.argv[msArg + 1]) : 300;

const BODY = Buffer.from('ok');
const instant = (): BackendTransport => ({
  protocol: 'h1',
  forward: () => {
    const response: UpstreamResponse = {
      status: 200,
      headers: [['content-length', '2']],
      stream: (consumer) => {
        consumer.data(BODY);
        consumer.end([]);
      },
      resume: () => {},
      abort: () => {},
    };
    return Promise.resolve(response);
  },
  close: async () => undefined,
});

const state = new LongLivedState({ createTransport: instant });
const backends = [
  { id: 'b0', address: 'http://127.0.0.1:1' },
  { id: 'b1', address: 'http://127.0.0.1:2' },
];
const parsed = parseConfig({
  version: 1,
  listen: { address: '127.0.0.1', port: 9889, tls: { cert: 'unused.pem', key: 'unused.pem' } },
  upstream: {
    plain: { route: { path_prefix: '/plain' }, backends },
    hedged: { route: { path_prefix: '/hedged' }, backends, resilience: { hedging: { enabled: true, delay_ms: 100 } } },
  },
});
if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
const compiled = compileGeneration(parsed.config, null, state);
if (!compiled.ok) throw new Error('compile failed');
const store = new GenerationStore();
store.swap(compiled.generation);
await state.retain(compiled.generation);
const handle = createRequestHandler({ store, state, logger: pino({ level: 'silent' }) });

async function measure(path: string): Promise<number> {
  const one = async (): Promise<void> => {
    const ex = createMemoryExchange({ path });
    await handle(ex);
    if (ex.response.status !== 200) throw new Error(`status ${ex.response.status}`);
  };
  for (let i = 0; i < 20_000; i++) await one();
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    let ops = 0;
    const cpu = process.cpuUsage();
    const end = performance.now() + RUN_MS;
    while (performance.now() < end) {
      for (let i = 0; i < 100; i++) await one();
      ops += 100;
    }
    const used = process.cpuUsage(cpu);
    runs.push((used.user + used.system) / ops);
  }
  return runs.sort((a, b) => a - b)[2] as number;
}

const rows: [string, number][] = [];
for (const [name, path] of [
  ['hedging off (plain)', '/plain/x'],
  ['hedging on, not triggering', '/hedged/x'],
  ['hedging off (plain), again', '/plain/x'],
  ['hedging on, not triggering, again', '/hedged/x'],
] as const) {
  rows.push([name, await measure(path)]);
}
console.log('| request (GET, instant fake transport) | CPU µs / request |');
console.log('|---|---:|');
for (const [name, us] of rows) console.log(`| ${name} | ${us.toFixed(2)} |`);
await state.close();
