/**
 * The two load shapes over already-open sessions, on the shared schedule of a `go` message:
 *  - closed loop: `streams` requests in flight on every connection, each slot sending its
 *    next request when the previous one finished, until measureTo;
 *  - open loop: requests sent at fixed intervals (this generator's share of the rate),
 *    round-robin over the connections, whatever the answers do; latency counts from the
 *    scheduled send time, so a stalled target cannot hide its queue (no coordinated omission).
 * Both resolve with the job's result after in-flight requests finished or the drain bound
 * expired them.
 */
import type { Http3ClientSession, IncomingHeaders } from '@currentspace/http3';
import { InflightSweep, sendRequest } from './h3-request.ts';
import { LatencyHistogram } from './latency-histogram.ts';
import type { GoMessage, JobResult, PrepareMessage } from './load-protocol.ts';
import { patternBody } from './workloads.ts';

/** Open loop: requests in flight beyond this are not sent (counted as `dropped:overload`). */
const MAX_OPEN_INFLIGHT = 20_000;

const nowMs = (): number => performance.timeOrigin + performance.now();

class Tally {
  completed = 0;
  bytes = 0;
  readonly latency = new LatencyHistogram();
  readonly lag = new LatencyHistogram();
  readonly errors: Record<string, number> = {};
  offered = 0;
  served = 0;

  error(kind: string): void {
    this.errors[kind] = (this.errors[kind] ?? 0) + 1;
  }

  result(): JobResult {
    return {
      completed: this.completed,
      bytes: this.bytes,
      latency: this.latency.toJSON(),
      errors: this.errors,
      offered: this.offered,
      served: this.served,
      sendLagP99Ms: this.lag.count === 0 ? 0 : this.lag.quantileMs(0.99),
      sendLagMaxMs: this.lag.count === 0 ? 0 : this.lag.maxMs(),
    };
  }
}

function requestParts(job: PrepareMessage): { headers: IncomingHeaders; body: Buffer | null } {
  const headers: IncomingHeaders = { ':method': job.workload.method, ':scheme': 'https', ':authority': job.authority, ':path': job.workload.path };
  if (job.workload.method === 'POST') {
    headers['content-type'] = 'application/octet-stream';
    headers['content-length'] = String(job.workload.requestBytes);
    return { headers, body: patternBody(job.workload.requestBytes) };
  }
  return { headers, body: null };
}

/**
 * The request headers of each session: the same object for all, or — for a workload with
 * `tagConnections` — each its own `:path` with `?c=<generator pid>-<index>`, so the target's
 * access log tells which connection each request came on (the all-cores bench counts the
 * connections each worker got).
 */
function sessionHeaders(count: number, headers: IncomingHeaders, job: PrepareMessage): IncomingHeaders[] {
  if (!job.workload.tagConnections) return Array.from({ length: count }, () => headers);
  return Array.from({ length: count }, (_, i) => ({ ...headers, ':path': `${job.workload.path}?c=${process.pid}-${i}` }));
}

function waitUntil(atMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, atMs - nowMs())));
}

/** Waits for in-flight requests until `deadline`, then expires the rest. */
async function drain(inflight: () => number, sweep: InflightSweep, deadline: number): Promise<void> {
  while (inflight() > 0 && nowMs() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  sweep.expireAll();
}

export async function runClosedLoop(sessions: readonly Http3ClientSession[], job: PrepareMessage, go: GoMessage): Promise<JobResult> {
  const tally = new Tally();
  const sweep = new InflightSweep();
  const { headers, body } = requestParts(job);
  const perSession = sessionHeaders(sessions.length, headers, job);
  const expect = job.workload.responseBytes;
  let inflight = 0;
  await waitUntil(go.startAtMs);
  const slot = (index: number): void => {
    const session = sessions[index]!;
    if (session.closed) {
      tally.error('connection-closed');
      return;
    }
    const sentAt = nowMs();
    if (sentAt >= go.measureToMs) return;
    inflight++;
    sendRequest(session, perSession[index]!, body, expect, job.requestTimeoutMs, sweep, (error, bytes) => {
      inflight--;
      const at = nowMs();
      if (error !== null) {
        tally.error(error);
        // A failing target answers fast: yield so a failure loop cannot starve the timers.
        setImmediate(() => slot(index));
        return;
      }
      if (at >= go.measureFromMs && at < go.measureToMs) {
        tally.completed++;
        tally.bytes += bytes;
        tally.latency.recordMs(at - sentAt);
      }
      slot(index);
    });
  };
  for (let i = 0; i < sessions.length; i++) for (let s = 0; s < job.streams; s++) slot(i);
  await waitUntil(go.measureToMs);
  await drain(() => inflight, sweep, go.measureToMs + go.drainMs);
  sweep.stop();
  return tally.result();
}

export async function runOpenLoop(sessions: readonly Http3ClientSession[], job: PrepareMessage, go: GoMessage): Promise<JobResult> {
  const tally = new Tally();
  const sweep = new InflightSweep();
  const { headers, body } = requestParts(job);
  const perSession = sessionHeaders(sessions.length, headers, job);
  const expect = job.workload.responseBytes;
  const intervalMs = 1000 / job.ratePerSec;
  let inflight = 0;
  let next = go.startAtMs;
  let turn = 0;
  const issue = (scheduled: number, sentAt: number): void => {
    const measured = scheduled >= go.measureFromMs && scheduled < go.measureToMs;
    if (measured) {
      tally.offered++;
      tally.lag.recordMs(sentAt - scheduled);
    }
    if (inflight >= MAX_OPEN_INFLIGHT) {
      tally.error('dropped:overload');
      return;
    }
    const index = turn++ % sessions.length;
    const session = sessions[index]!;
    inflight++;
    sendRequest(session, perSession[index]!, body, expect, job.requestTimeoutMs, sweep, (error, bytes) => {
      inflight--;
      const at = nowMs();
      if (error !== null) {
        tally.error(error);
        return;
      }
      if (measured) {
        tally.served++;
        tally.latency.recordMs(at - scheduled);
      }
      if (at >= go.measureFromMs && at < go.measureToMs) {
        tally.completed++;
        tally.bytes += bytes;
      }
    });
  };
  await waitUntil(go.startAtMs);
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = nowMs();
      while (next <= now && next < go.measureToMs) {
        issue(next, now);
        next += intervalMs;
      }
      if (next >= go.measureToMs) resolve();
      else setTimeout(tick, Math.max(0, Math.min(1, next - nowMs())));
    };
    tick();
  });
  await drain(() => inflight, sweep, go.measureToMs + go.drainMs);
  sweep.stop();
  return tally.result();
}
