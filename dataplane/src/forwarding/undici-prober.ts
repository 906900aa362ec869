/**
 * The health Prober (health/prober.ts) over undici: one Pool per backend of its own, never
 * the traffic pool, with the traffic's TLS settings (backend-connector.ts). `https://` → H2
 * via ALPN, `http://` → HTTP/1.1. One probe = `GET <path>`, response body drained (at most
 * 64 KiB, then the connection is dropped), the whole exchange bounded by `timeoutMs`.
 */
import type { ProbeResult } from '../health/health-state.ts';
import type { ProbeRequest, Prober, ProbeTransportSettings } from '../health/prober.ts';
import { backendConnection } from './backend-connector.ts';
import { upstreamErrorCode } from './classify-upstream-error.ts';
import { createGuardedPool } from './guarded-pool.ts';

const MAX_PROBE_BODY = 64 * 1024;

export function createUndiciProber(address: string, settings: ProbeTransportSettings): Prober {
  const conn = backendConnection(address, settings);
  const pool = createGuardedPool(address, {
    allowH2: conn.https,
    connect: conn.connect,
    // Few connections: probes are sequential per backend.
    connections: 2,
  });
  return {
    async probe(request: ProbeRequest): Promise<ProbeResult> {
      const timeout = AbortSignal.timeout(request.timeoutMs);
      const signal = AbortSignal.any([request.signal, timeout]);
      try {
        const response = await pool.request({
          path: request.path,
          method: 'GET',
          headers: { 'user-agent': 'spooky-health-check', accept: '*/*' },
          servername: conn.hostname,
          signal,
          headersTimeout: request.timeoutMs,
          bodyTimeout: request.timeoutMs,
        } as Parameters<typeof pool.request>[0]);
        await response.body.dump({ limit: MAX_PROBE_BODY, signal }).catch(() => undefined);
        return { kind: 'response', status: response.statusCode };
      } catch (err) {
        if (timeout.aborted) return { kind: 'timeout' };
        const code = upstreamErrorCode(err);
        return code === 'upstream_timeout' ? { kind: 'timeout' } : { kind: 'error', code: errorCodeOf(err) ?? code };
      }
    },
    close: () => pool.close(),
  };
}

/** The innermost-first transport code (e.g. ECONNREFUSED) for the log detail. */
function errorCodeOf(err: unknown): string | null {
  let cur: unknown = err;
  let found: string | null = null;
  for (let depth = 0; depth < 5 && cur !== null && typeof cur === 'object'; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string') found = code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return found;
}
