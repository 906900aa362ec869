/** One measured cell (round × workload × target) as the JSON file stores it. */
export interface CellResult {
  readonly round: number;
  /** Position of the target within its round's rotation (0 = first). */
  readonly position: number;
  readonly workload: string;
  readonly target: string;
  /** 'closed' (connections × streams) or 'open' (fixed offered rate). */
  readonly mode: 'closed' | 'open';
  readonly connections: number;
  readonly streams: number;
  /** Open loop: offered rate (req/s) over all generators; 0 for closed loop. */
  readonly offeredRate: number;
  readonly windowSec: number;
  /** Successful responses completed in the window (the CPU-per-request denominator). */
  readonly completed: number;
  /** completed ÷ window. */
  readonly reqPerSec: number;
  /** Open loop: requests scheduled in the window and answered (whenever), ÷ window; 0 closed loop. */
  readonly servedPerSec: number;
  /** Response body bytes in the window × 8 / 1e6 per second. */
  readonly mbitPerSec: number;
  /** CPU (user + system) of the SUT's whole process tree in the window ÷ completed, µs. */
  readonly cpuUsPerReq: number;
  /**
   * The same CPU split by thread class of the SUT's processes (proc-cpu.ts ThreadClass: `js`
   * the JavaScript threads, `v8` GC and compiler helpers, `libuv` its pool, `native` the QUIC
   * library's worker and other native threads), ÷ completed, µs. Threads that exited inside
   * the window are missing (their time is in cpuUsPerReq only).
   */
  readonly threadUsPerReq: Readonly<Record<string, number>>;
  /** The same CPU ÷ window, in % of one core (the SUT is pinned to one). */
  readonly sutCorePct: number;
  /** All load generator processes' CPU ÷ window, % of one core. */
  readonly loadCorePct: number;
  /** The Node origins' CPU ÷ window (proxy targets), % of one core; null for direct. */
  readonly originCorePct: number | null;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Errors by kind over the whole cell (warm-up included). */
  readonly errors: Readonly<Record<string, number>>;
  /** Open loop: how late the generators sent (their own stalls, if large). */
  readonly sendLagP99Ms: number;
  readonly sendLagMaxMs: number;
  /** True when the SUT's process tree changed in the window (a worker restarted: CPU incomplete). */
  readonly treeChanged: boolean;
}
