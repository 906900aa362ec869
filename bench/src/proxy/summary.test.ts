import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CellResult } from './cell-result.ts';
import { closedLoopTable, median, noiseFloorLines, pairLines, summarise, threadTable } from './summary.ts';

function cell(round: number, workload: string, target: string, reqPerSec: number, extra: Partial<CellResult> = {}): CellResult {
  return {
    round, position: 0, workload, target, mode: 'closed', connections: 16, streams: 16, offeredRate: 0, windowSec: 4,
    completed: reqPerSec * 4, reqPerSec, servedPerSec: 0, mbitPerSec: 1, cpuUsPerReq: 100, threadUsPerReq: { js: 60, v8: 10, native: 30, libuv: 0 }, sutCorePct: 90, loadCorePct: 50,
    originCorePct: null, p50Ms: 1, p90Ms: 2, p99Ms: 3, maxMs: 4, errors: {}, sendLagP99Ms: 0, sendLagMaxMs: 0, treeChanged: false,
    ...extra,
  };
}

describe('summary', () => {
  it('median of odd, even and non-finite inputs', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([Number.NaN, 5]), 5);
    assert.ok(Number.isNaN(median([])));
  });

  it('ratios are per round against the same round’s direct, then the median', () => {
    const cells = [
      cell(0, 'w', 'direct', 1000), cell(0, 'w', 'p', 500),
      cell(1, 'w', 'direct', 2000), cell(1, 'w', 'p', 400),
      cell(2, 'w', 'direct', 1000), cell(2, 'w', 'p', 300),
    ];
    const [direct, p] = summarise(cells);
    assert.equal(direct!.ratio, 1);
    // per-round ratios 0.5, 0.2, 0.3 → median 0.3 (the ratio of medians would be 400/1000 = 0.4)
    assert.equal(p!.ratio, 0.3);
    assert.equal(p!.ratioMin, 0.2);
    assert.equal(p!.ratioMax, 0.5);
    assert.equal(p!.reqPerSec, 400);
  });

  it('errors are summed by kind and shown in the table; the A/A line reads the ratio', () => {
    const cells = [
      cell(0, 'w', 'direct', 1000), cell(0, 'w', 'direct-aa', 900),
      cell(0, 'w', 'p', 100, { errors: { 'status:502': 2 } }), cell(1, 'w', 'p', 100, { errors: { 'status:502': 1, timeout: 1 } }),
      cell(1, 'w', 'direct', 1000), cell(1, 'w', 'direct-aa', 1100),
    ];
    const rows = summarise(cells);
    const p = rows.find((r) => r.target === 'p')!;
    assert.deepEqual(p.errorKinds, { 'status:502': 3, timeout: 1 });
    assert.equal(p.errors, 4);
    const table = closedLoopTable(rows, new Map([['p', 'Proxy']]), new Map([['w', 'Workload']]));
    assert.match(table, /\| Workload \| direct \| 1,000 \| 1 \|/);
    assert.match(table, /\| {2}\| Proxy \| 100 \| 0\.10 \(0\.10–0\.10\) \|.*status:502 3, timeout 1 \|/);
    assert.deepEqual(noiseFloorLines(rows, 'direct-aa', new Map()), ['- w: A/A 1.00 (0.90–1.10)']);
  });

  it('the A/B line pairs the two targets round by round (CPU and req/s ratios, median and range)', () => {
    const cells = [
      cell(0, 'w', 'a', 500, { cpuUsPerReq: 90 }), cell(0, 'w', 'b', 400, { cpuUsPerReq: 100 }),
      cell(1, 'w', 'a', 300, { cpuUsPerReq: 160 }), cell(1, 'w', 'b', 300, { cpuUsPerReq: 200 }),
      cell(2, 'w', 'a', 100, { cpuUsPerReq: 100 }), // no b in round 2: left out
      cell(0, 'x', 'a', 100), // workload without b: no line
    ];
    assert.deepEqual(pairLines(cells, 'a', 'b', new Map([['w', 'W']])), ['- W: CPU µs/req 0.850 (0.800–0.900), req/s 1.125 (1.000–1.250) over 2 rounds']);
  });

  it('the thread split is the median per class over rounds', () => {
    const cells = [
      cell(0, 'w', 'p', 100, { threadUsPerReq: { js: 50, v8: 5, native: 40, libuv: 0 } }),
      cell(1, 'w', 'p', 100, { threadUsPerReq: { js: 70, v8: 15, native: 20, libuv: 1 } }),
      cell(2, 'w', 'p', 100, { threadUsPerReq: { js: 60, v8: 10, native: 30, libuv: 2 } }),
    ];
    const [p] = summarise(cells);
    assert.deepEqual(p!.threadUsPerReq, { js: 60, v8: 10, native: 30, libuv: 1 });
    assert.match(threadTable([p!], new Map([['p', 'Proxy']]), new Map()), /\| w \| Proxy \| 100 \| 60 \| 10 \| 30 \| 1 \|/);
  });
});
