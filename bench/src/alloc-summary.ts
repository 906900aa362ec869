/**
 * Bytes allocated on the JS heap by owner and by call site, from a sampling heap profile that
 * kept collected objects (alloc-profile-preload.ts):
 *
 *   node bench/src/alloc-summary.ts <file.heapprofile> [--requests N] [--top 30]
 *
 * Owners are profile-summary.ts's (the script URL of the allocating frame); a frame without a
 * URL (a builtin such as `Promise` or `Array.prototype.push`) is charged to its nearest caller
 * that has one, and the site names both ("push < onResponseData forward-handler.ts:98").
 * `--requests N` (requests served while sampling) adds bytes per request; without it the count
 * the preload wrote next to the profile (`alloc.<pid>.requests`) is used when present.
 */
import { existsSync, readFileSync } from 'node:fs';
import { ownerOf } from './profile-summary.ts';
import { parseBenchArgs } from './proxy/bench-args.ts';

interface HeapNode {
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly selfSize: number;
  readonly children: readonly HeapNode[];
}

export interface AllocSummary {
  readonly totalBytes: number;
  readonly byOwner: ReadonlyMap<string, number>;
  readonly bySite: ReadonlyMap<string, number>;
}

function shortUrl(url: string): string {
  return url.split('/').slice(-2).join('/');
}

function frameName(frame: HeapNode['callFrame']): string {
  return `${frame.functionName || '(anonymous)'} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
}

/** Walks the tree once; each node's self bytes go to its own frame or its nearest caller with a URL. */
export function summariseAllocations(head: HeapNode): AllocSummary {
  const byOwner = new Map<string, number>();
  const bySite = new Map<string, number>();
  let total = 0;
  const walk = (node: HeapNode, caller: HeapNode['callFrame'] | null): void => {
    const frame = node.callFrame;
    const own = ownerOf(frame.url, frame.functionName);
    const located = frame.url !== '' ? frame : caller;
    if (node.selfSize > 0) {
      total += node.selfSize;
      const owner = own ?? (located === null ? '(no script frame)' : (ownerOf(located.url, located.functionName) ?? '(no script frame)'));
      byOwner.set(owner, (byOwner.get(owner) ?? 0) + node.selfSize);
      const site = frame.url !== '' || located === null ? frameName(frame) : `${frame.functionName || '(native)'} < ${frameName(located)}`;
      bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
    }
    for (const child of node.children) walk(child, located);
  };
  walk(head, null);
  return { totalBytes: total, byOwner, bySite };
}

function table(entries: ReadonlyMap<string, number>, total: number, requests: number, top: number): string {
  return [...entries.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, v]) => `| ${k} | ${((100 * v) / total).toFixed(1)} % | ${requests > 0 ? (v / requests).toFixed(0) : ''} |`)
    .join('\n');
}

if (import.meta.main) {
  const USAGE = 'usage: node bench/src/alloc-summary.ts <file.heapprofile> [--requests N] [--top 30]';
  const [file, ...rest] = process.argv.slice(2);
  const values = parseBenchArgs({ requests: { type: 'string', default: '0' }, top: { type: 'string', default: '30' } }, USAGE, rest);
  if (!file || file.startsWith('--')) {
    process.stderr.write(`${USAGE}\n`);
    process.exit(2);
  }
  const sidecar = file.replace(/\.heapprofile$/, '.requests');
  const requests = Number(values.requests) > 0 ? Number(values.requests) : existsSync(sidecar) ? Number(readFileSync(sidecar, 'utf8').trim()) : 0;
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { head: HeapNode };
  const s = summariseAllocations(profile.head);
  const perReq = requests > 0 ? ` = ${(s.totalBytes / requests).toFixed(0)} bytes per request over ${requests}` : '';
  console.log(`${file}: ${(s.totalBytes / 1048576).toFixed(1)} MiB allocated while sampling${perReq}\n`);
  console.log(`| owner | % of bytes | bytes/req |\n| --- | ---: | ---: |\n${table(s.byOwner, s.totalBytes, requests, 100)}`);
  console.log(`\n| site (self) | % of bytes | bytes/req |\n| --- | ---: | ---: |\n${table(s.bySite, s.totalBytes, requests, Number(values.top))}`);
}
